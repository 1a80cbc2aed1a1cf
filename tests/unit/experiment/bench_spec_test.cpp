// BenchSpec validation: every bad input is an eaq::Error that names the flag.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "experiment/bench_spec.h"

namespace eaq::experiment {
namespace {

BenchSpec valid_spec() {
  BenchSpec spec;
  spec.model_path = EAQ_SHARED_DIR "/models/stories260K/stories260K.bin";
  spec.precisions = {"f32", "int8"};
  spec.n_prompt = 8;
  spec.n_gen = 4;
  spec.repetitions = 2;
  return spec;
}

std::string error_of(const BenchSpec& spec) {
  try {
    validate(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(BenchSpec, ValidSpecPasses) { EXPECT_EQ(error_of(valid_spec()), ""); }

TEST(BenchSpec, BadFlagsAreNamed) {
  auto spec = valid_spec();
  spec.n_gen = 0;
  EXPECT_NE(error_of(spec).find("-n 0"), std::string::npos);
  spec = valid_spec();
  spec.repetitions = 0;
  EXPECT_NE(error_of(spec).find("-r 0"), std::string::npos);
  spec = valid_spec();
  spec.n_prompt = 0;
  EXPECT_NE(error_of(spec).find("-p 0"), std::string::npos);
  spec = valid_spec();
  spec.precisions = {"f32", "int3"};
  EXPECT_NE(error_of(spec).find("--precision int3"), std::string::npos);
  spec = valid_spec();
  spec.model_path = "/nonexistent/model.gguf";
  EXPECT_NE(error_of(spec).find("no such file"), std::string::npos);
  spec = valid_spec();
  spec.device = parse_device("cuda:1");
  spec.precisions = {"int8", "q4_1"};  // q4_1 has no GPU kernel: it would run as f16
  EXPECT_NE(error_of(spec).find(runtime::cuda_backend_built() ? "--precision q4_1: the CUDA backend has no kernel"
                                                              : "built without the CUDA backend"),
            std::string::npos)
      << error_of(spec);
}

TEST(BenchSpec, CudaPrecisionsAreTheOnesItsKernelsCompute) {
  if (!runtime::cuda_backend_built()) {
    EXPECT_THROW(supported_precisions(parse_device("cuda")), Error);
    GTEST_SKIP() << "eaq built without the CUDA backend";
  }
  const auto names = supported_precisions(parse_device("cuda"));
  const auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const char* n : {"fp16", "bf16", "fp8-e4m3", "int8", "int4-g32", "int4-g128", "nf4", "q8_0", "q4_0"}) {
    EXPECT_TRUE(has(n)) << n;
  }
  for (const char* n : {"f32", "int8-dyn", "int4-g32-zp", "q4_1"}) EXPECT_FALSE(has(n)) << n;
  BenchSpec spec = valid_spec();
  spec.device = parse_device("cuda:0");
  spec.precisions = {"int8"};
  EXPECT_EQ(engine_config_for(spec, "int8").device, "cuda:0");
  // With flags valid, the device itself is checked: a clear reason where no GPU is usable.
  const auto error = error_of(spec);
  EXPECT_TRUE(error.empty() || error.find("--device cuda:0") != std::string::npos) << error;
}

TEST(BenchSpec, Devices) {
  EXPECT_EQ(parse_device("cpu").name(), "cpu");
  EXPECT_EQ(parse_device("cuda").name(), "cuda:0");
  EXPECT_EQ(parse_device("cuda:3").name(), "cuda:3");
  EXPECT_THROW(parse_device("gpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  EXPECT_THROW(parse_device("cuda:-1"), Error);
}

TEST(BenchSpec, EveryCpuPrecisionMapsToAnEngineConfig) {
  const auto spec = valid_spec();
  const auto precisions = supported_precisions(spec.device);
  EXPECT_GE(precisions.size(), 16u);
  for (const auto& p : precisions) {
    const auto config = engine_config_for(spec, p);
    EXPECT_EQ(config.context_size, spec.n_prompt + spec.n_gen);
    EXPECT_TRUE(config.weight_dtype.has_value() || config.precision == p) << p;
  }
  EXPECT_EQ(split_list("a,,b,"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace eaq::experiment
