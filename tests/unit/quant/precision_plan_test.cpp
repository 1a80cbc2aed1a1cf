// Precision plans: scheme defaults (8-bit embeddings for the 4-bit schemes), YAML rules (first
// match wins, globs, keep), group-size fallback, and the errors for bad plans.
#include <gtest/gtest.h>

#include "core/error.h"
#include "quant/precision_plan.h"
#include "quant/scheme_registry.h"

namespace eaq::quant {
namespace {

TEST(PrecisionPlan, SchemeDefaultsKeepEmbeddingsAt8BitFor4BitSchemes) {
  auto plan = PrecisionPlan::for_scheme("int4-g32");
  EXPECT_EQ(plan.dtype_for("blk.3.ffn_up.weight", DType::Q4_1, 576), DType::I4S_G32);
  EXPECT_EQ(plan.dtype_for("token_embd.weight", DType::Q8_0, 576), DType::I8_CH);
  EXPECT_EQ(plan.dtype_for("output.weight", DType::F32, 576), DType::I8_CH);
  EXPECT_EQ(PrecisionPlan::for_scheme("q4_0").dtype_for("token_embd.weight", DType::F32, 576), DType::Q8_0);
  EXPECT_EQ(PrecisionPlan::for_scheme("nf4").dtype_for("blk.0.attn_q.weight", DType::F32, 576), DType::NF4);
  EXPECT_EQ(PrecisionPlan::for_scheme("int8").dtype_for("token_embd.weight", DType::F32, 576), DType::I8_CH);
}

TEST(PrecisionPlan, NativeKeepsFormatsWithKernelsAndConvertsTheRestToF32) {
  auto plan = PrecisionPlan::native();
  EXPECT_EQ(plan.dtype_for("blk.0.attn_q.weight", DType::Q4_1, 576), DType::Q4_1);
  EXPECT_EQ(plan.dtype_for("token_embd.weight", DType::Q8_0, 576), DType::Q8_0);
  EXPECT_EQ(plan.dtype_for("blk.0.attn_q.weight", DType::Q6_K, 256), DType::Q6_K);
  EXPECT_EQ(plan.dtype_for("blk.0.attn_q.weight", DType::Q5_0, 256), DType::F32);
}

TEST(PrecisionPlan, LargeGroupsFallBackToTheLargestThatFits) {
  auto plan = PrecisionPlan::for_scheme("int4-g128-zp");
  EXPECT_EQ(plan.dtype_for("blk.0.ffn_down.weight", DType::F32, 1536), DType::I4Z_G128);
  EXPECT_EQ(plan.dtype_for("blk.0.ffn_up.weight", DType::F32, 576), DType::I4Z_G64);
  EXPECT_THROW(PrecisionPlan::for_scheme("nf4").dtype_for("blk.0.ffn_up.weight", DType::F32, 96), Error);
}

TEST(PrecisionPlan, YamlRulesFirstMatchWins) {
  auto plan = PrecisionPlan::from_yaml_text(R"(
default: int4-g32
rules:
  - {match: "blk.*.ffn_down.weight", scheme: int8}
  - match: "blk.1?.*"
    scheme: nf4
  - {match: "blk.0.*", scheme: keep}
  - {match: "output.weight", scheme: q8_0}
)", "test");
  EXPECT_EQ(plan.dtype_for("blk.12.ffn_down.weight", DType::F32, 576), DType::I8_CH);
  EXPECT_EQ(plan.dtype_for("blk.12.attn_q.weight", DType::F32, 576), DType::NF4);
  EXPECT_EQ(plan.dtype_for("blk.0.attn_q.weight", DType::Q4_1, 576), DType::Q4_1);
  EXPECT_EQ(plan.dtype_for("blk.2.attn_q.weight", DType::F32, 576), DType::I4S_G32);
  EXPECT_EQ(plan.dtype_for("output.weight", DType::F32, 576), DType::Q8_0);
  EXPECT_EQ(plan.dtype_for("token_embd.weight", DType::F32, 576), DType::I8_CH);  // the default's embedding dtype
  auto again = PrecisionPlan::from_yaml_text(plan.to_yaml(), "round trip");
  EXPECT_EQ(again.rules.size(), plan.rules.size());
  EXPECT_EQ(again.default_scheme, "int4-g32");
}

TEST(PrecisionPlan, BadPlansAreErrorsThatSayWhat) {
  auto message = [](const std::string& yaml) {
    try {
      PrecisionPlan::from_yaml_text(yaml, "plan.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("rules: [{match: 'a', scheme: int3}]").find("unknown precision scheme 'int3'"), std::string::npos);
  EXPECT_NE(message("rules: [{match: 'a'}]").find("needs 'match'"), std::string::npos);
  EXPECT_NE(message("rulez: []").find("unknown key 'rulez'"), std::string::npos);
  EXPECT_NE(message("[1, 2").find("not valid YAML"), std::string::npos);
  EXPECT_NE(message("- a").find("expected a mapping"), std::string::npos);
  EXPECT_THROW(PrecisionPlan::for_scheme("int5"), Error);
}

}  // namespace
}  // namespace eaq::quant
