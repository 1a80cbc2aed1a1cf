// HfConfig: typed lookups on config.json and errors that name the file and the key.
#include "io/hf_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace eaq::io {
namespace {

using ::testing::HasSubstr;

const char* kConfig = R"({
  "model_type": "llama", "hidden_size": 64, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
  "eos_token_id": [128001, 128009], "bos_token_id": 1, "float_int": 4096.0, "nothing": null,
  "rope_scaling": {"rope_type": "linear", "factor": 4}, "architectures": ["LlamaForCausalLM"]
})";

TEST(HfConfig, TypedLookups) {
  auto c = HfConfig::parse("dir/config.json", kConfig);
  EXPECT_EQ(c.get_int("hidden_size"), 64);
  EXPECT_DOUBLE_EQ(c.get_double("rms_norm_eps"), 1e-5);
  EXPECT_DOUBLE_EQ(c.get_double("hidden_size"), 64.0);
  EXPECT_EQ(c.get_string("model_type"), "llama");
  EXPECT_EQ(c.find_bool("tie_word_embeddings"), false);
  EXPECT_EQ(c.find_int_list("eos_token_id"), (std::vector<std::int64_t>{128001, 128009}));
  EXPECT_EQ(c.find_int_list("bos_token_id"), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(c.find_int("float_int"), 4096);
  EXPECT_FALSE(c.has("nothing"));
  EXPECT_FALSE(c.find_int("nothing").has_value());
  EXPECT_EQ(c.find_string_list("architectures"), (std::vector<std::string>{"LlamaForCausalLM"}));
  auto rs = c.object("rope_scaling");
  ASSERT_TRUE(rs.has_value());
  EXPECT_DOUBLE_EQ(rs->get_double("factor"), 4.0);
  EXPECT_THAT(rs->where(), HasSubstr("rope_scaling"));
  EXPECT_FALSE(c.object("text_config").has_value());
}

TEST(HfConfig, MissingKeyNamesFileAndKey) {
  auto c = HfConfig::parse("dir/config.json", kConfig);
  try {
    c.get_int("num_hidden_layers");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dir/config.json"));
    EXPECT_THAT(e.what(), HasSubstr("'num_hidden_layers'"));
  }
  try {
    c.object("rope_scaling")->get_double("low_freq_factor");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("rope_scaling"));
    EXPECT_THAT(e.what(), HasSubstr("low_freq_factor"));
  }
}

TEST(HfConfig, WrongTypesAreErrors) {
  auto c = HfConfig::parse("config.json", kConfig);
  EXPECT_THROW(c.get_int("model_type"), Error);
  EXPECT_THROW(c.get_int("rms_norm_eps"), Error);
  EXPECT_THROW(c.find_bool("hidden_size"), Error);
  EXPECT_THROW(c.get_string("hidden_size"), Error);
  EXPECT_THROW(c.object("hidden_size"), Error);
  EXPECT_THROW(c.find_string_list("model_type"), Error);
}

TEST(HfConfig, RejectsNonObjectsAndBadJson) {
  EXPECT_THROW(HfConfig::parse("config.json", "[1]"), Error);
  EXPECT_THROW(HfConfig::parse("config.json", "{\"a\": "), Error);
  EXPECT_THROW(HfConfig::open("/nonexistent/config.json"), Error);
}

}  // namespace
}  // namespace eaq::io
