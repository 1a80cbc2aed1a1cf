// ModelConfig from HF config.json, GGUF metadata and llama2.c headers: each family's quirks, the
// real embedded models, and missing or unsupported keys.
#include "model/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "io/hf_config.h"
#include "io/llama2c_checkpoint.h"

namespace eaq::model {
namespace {

using ::testing::HasSubstr;

ModelConfig from_hf(const std::string& text) { return config_from_hf(io::HfConfig::parse("cfg/config.json", text)); }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an eaq::Error";
  return "";
}

// SmolLM2-135M-Instruct's config.json (abridged to the keys transformers reads).
const char* kSmolLm2 = R"({
  "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 576, "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama",
  "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "rms_norm_eps": 1e-05,
  "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152})";

TEST(ModelConfigHf, LlamaSmolLm2) {
  auto c = from_hf(kSmolLm2);
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.source_architecture, "llama");
  EXPECT_EQ(c.format, ModelFormat::kSafetensors);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_dim, 64);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.context_length, 8192);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 100000.0);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNeox);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_EQ(c.activation, Activation::kSilu);
  EXPECT_DOUBLE_EQ(c.attention_scale, 1.0 / 8.0);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{2}));
}

TEST(ModelConfigHf, DeepSeekCoderLinearRope) {
  auto c = from_hf(R"({"model_type": "llama", "hidden_size": 2048, "intermediate_size": 5504,
    "num_attention_heads": 16, "num_hidden_layers": 24, "num_key_value_heads": 16, "vocab_size": 32256,
    "max_position_embeddings": 16384, "rms_norm_eps": 1e-06, "rope_theta": 100000,
    "rope_scaling": {"factor": 4.0, "type": "linear"}, "tie_word_embeddings": false,
    "bos_token_id": 32013, "eos_token_id": 32021})");
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
  EXPECT_FALSE(c.tied_embeddings);
}

TEST(ModelConfigHf, Llama3RopeScalingAndEosList) {
  auto c = from_hf(R"({"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192,
    "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "head_dim": 64,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})");
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.eos_token_ids.size(), 3u);
  EXPECT_EQ(c.n_kv_heads, 8);
}

TEST(ModelConfigHf, TransformersV5RopeParameters) {
  // The shape transformers 5 writes (tests/golden/engine/llama3_rope/config.json).
  auto c = from_hf(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "head_dim": 16,
    "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2, "vocab_size": 256,
    "max_position_embeddings": 256, "rms_norm_eps": 1e-05,
    "rope_parameters": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
      "original_max_position_embeddings": 64, "rope_theta": 500000.0, "rope_type": "llama3"}})");
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);
  EXPECT_FALSE(c.tied_embeddings);  // LlamaConfig's default
}

TEST(ModelConfigHf, YarnScaling) {
  auto c = from_hf(R"({"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
    "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2, "vocab_size": 256,
    "max_position_embeddings": 131072,
    "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}})");
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 32768);
  EXPECT_DOUBLE_EQ(c.rope_scaling.beta_fast, 32.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.beta_slow, 1.0);
  EXPECT_FALSE(c.rope_scaling.attention_factor.has_value());
}

TEST(ModelConfigHf, MistralSlidingWindowOnEveryLayer) {
  auto c = from_hf(R"({"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 32000,
    "max_position_embeddings": 32768, "rope_theta": 10000.0, "sliding_window": 4096})");
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.source_architecture, "mistral");
  EXPECT_EQ(c.sliding_window, 4096);
  for (int i = 0; i < 32; ++i) EXPECT_TRUE(c.is_sliding(i));
}

TEST(ModelConfigHf, Qwen2DeepSeekDistill) {
  // DeepSeek-R1-Distill-Qwen-1.5B: sliding_window is present but use_sliding_window is false.
  auto c = from_hf(R"({"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151643,
    "hidden_act": "silu", "hidden_size": 1536, "intermediate_size": 8960, "max_position_embeddings": 131072,
    "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 12, "num_hidden_layers": 28,
    "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 10000, "sliding_window": 4096,
    "tie_word_embeddings": false, "use_sliding_window": false, "vocab_size": 151936})");
  EXPECT_EQ(c.architecture, Architecture::kQwen2);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.attn_output_bias);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_FALSE(c.is_sliding(27));
  EXPECT_EQ(c.head_dim, 128);
}

TEST(ModelConfigHf, Qwen2SlidingFromMaxWindowLayers) {
  auto c = from_hf(R"({"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
    "num_attention_heads": 4, "num_hidden_layers": 4, "num_key_value_heads": 2, "vocab_size": 256,
    "max_position_embeddings": 256, "sliding_window": 16, "use_sliding_window": true, "max_window_layers": 2})");
  EXPECT_EQ(c.sliding_window, 16);
  EXPECT_FALSE(c.is_sliding(0));
  EXPECT_FALSE(c.is_sliding(1));
  EXPECT_TRUE(c.is_sliding(2));
  EXPECT_TRUE(c.is_sliding(3));
}

// gemma-3-270m's config.json (abridged).
const char* kGemma3 = R"({"architectures": ["Gemma3ForCausalLM"], "attn_logit_softcapping": null,
  "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "intermediate_size": 2048,
  "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4,
  "num_hidden_layers": 18, "num_key_value_heads": 1, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
  "rope_local_base_freq": 10000.0, "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": 512,
  "sliding_window_pattern": 6, "vocab_size": 262144})";

TEST(ModelConfigHf, Gemma3) {
  auto c = from_hf(kGemma3);
  EXPECT_EQ(c.architecture, Architecture::kGemma3);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.q_dim(), 1024);
  EXPECT_EQ(c.kv_dim(), 256);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_theta_local, 1e4);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNeox);
  EXPECT_EQ(c.sliding_window, 512);
  for (int i = 0; i < 18; ++i) EXPECT_EQ(c.is_sliding(i), (i + 1) % 6 != 0) << i;
  EXPECT_TRUE(c.tied_embeddings);  // Gemma3TextConfig's default
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.post_norms);
  EXPECT_TRUE(c.norm_adds_one);
  EXPECT_DOUBLE_EQ(c.embedding_scale, std::sqrt(640.0));
  EXPECT_DOUBLE_EQ(c.attention_scale, 1.0 / 16.0);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);
  EXPECT_DOUBLE_EQ(c.final_logit_softcapping, 0.0);
}

TEST(ModelConfigHf, Gemma3TransformersV5LayerTypes) {
  auto c = from_hf(R"({"model_type": "gemma3_text", "head_dim": 16, "hidden_size": 48, "intermediate_size": 96,
    "max_position_embeddings": 256, "num_attention_heads": 4, "num_hidden_layers": 3, "num_key_value_heads": 1,
    "query_pre_attn_scalar": 24, "vocab_size": 256, "sliding_window": 8,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
    "rope_parameters": {"full_attention": {"rope_theta": 1000000.0, "rope_type": "default"},
                        "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}})");
  EXPECT_TRUE(c.is_sliding(0));
  EXPECT_FALSE(c.is_sliding(1));
  EXPECT_TRUE(c.is_sliding(2));
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_theta_local, 1e4);
  EXPECT_DOUBLE_EQ(c.attention_scale, 1.0 / std::sqrt(24.0));
}

TEST(ModelConfigHf, Gemma3MultimodalUsesTextConfig) {
  auto c = from_hf(std::string(R"({"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
    "eos_token_id": [1, 106], "text_config": )") + kGemma3 + "}");
  EXPECT_EQ(c.architecture, Architecture::kGemma3);
  EXPECT_EQ(c.hidden_size, 640);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{1}));  // text_config's own wins
}

TEST(ModelConfigHf, ArchitecturesWithoutModelType) {
  auto c = from_hf(R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
    "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 256, "max_position_embeddings": 256})");
  EXPECT_EQ(c.architecture, Architecture::kQwen2);
  EXPECT_EQ(c.n_kv_heads, 4);
}

TEST(ModelConfigHf, Errors) {
  std::string base = R"("hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
    "num_hidden_layers": 2, "vocab_size": 256, "max_position_embeddings": 256)";
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"gpt_neox\", " + base + "}"); }),
              HasSubstr("'gpt_neox' is not supported"));
  EXPECT_THAT(error_of([&] { from_hf("{" + base + "}"); }), HasSubstr("neither 'model_type' nor 'architectures'"));
  auto missing = error_of([] {
    from_hf(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
      "vocab_size": 256, "max_position_embeddings": 256})");
  });
  EXPECT_THAT(missing, HasSubstr("cfg/config.json"));
  EXPECT_THAT(missing, HasSubstr("'num_hidden_layers'"));
  EXPECT_THAT(error_of([&] {
                from_hf("{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2}, " + base + "}");
              }),
              HasSubstr("'dynamic' is not supported"));
  EXPECT_THAT(error_of([&] {
                from_hf("{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}, " +
                        base + "}");
              }),
              HasSubstr("low_freq_factor"));
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"llama\", \"num_key_value_heads\": 3, " + base + "}"); }),
              HasSubstr("n_kv_heads = 3"));
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"llama\", \"hidden_act\": \"relu\", " + base + "}"); }),
              HasSubstr("'relu' is not supported"));
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"llama\", \"mlp_bias\": true, " + base + "}"); }),
              HasSubstr("mlp_bias"));
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"llama\", \"hidden_size\": \"64\", \"intermediate_size\": 128, "
                                     "\"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"vocab_size\": 256, "
                                     "\"max_position_embeddings\": 256}"); }),
              HasSubstr("'hidden_size' is string"));
  EXPECT_THAT(error_of([&] { from_hf("{\"model_type\": \"llama\", \"eos_token_id\": 999, " + base + "}"); }),
              HasSubstr("eos token id 999"));
  EXPECT_THAT(error_of([] {
                from_hf(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
                  "num_hidden_layers": 1000000000000, "vocab_size": 256, "max_position_embeddings": 256})");
              }),
              HasSubstr("num_hidden_layers"));
}

// --- GGUF ---

gguf::GgufWriter llama_gguf_metadata() {
  gguf::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_uint32("llama.block_count", 2);
  w.set_uint32("llama.context_length", 4096);
  w.set_uint32("llama.embedding_length", 64);
  w.set_uint32("llama.feed_forward_length", 128);
  w.set_uint32("llama.attention.head_count", 4);
  w.set_uint32("llama.attention.head_count_kv", 2);
  w.set_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_uint32("llama.vocab_size", 256);
  return w;
}

std::unique_ptr<gguf::GgufFile> open_gguf(const gguf::GgufWriter& w) {
  return gguf::GgufFile::from_bytes("test.gguf", w.to_bytes());
}

TEST(ModelConfigGguf, LlamaDefaultsAndLinearScaling) {
  auto w = llama_gguf_metadata();
  w.set_string("llama.rope.scaling.type", "linear");
  w.set_float32("llama.rope.scaling.factor", 4.0f);
  auto c = config_from_gguf(*open_gguf(w));
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.format, ModelFormat::kGguf);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNormal);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
  EXPECT_TRUE(c.tied_embeddings);  // no output.weight
  EXPECT_FALSE(c.bos_token_id.has_value());
}

TEST(ModelConfigGguf, RopeFreqsTensorMeansFreqFactors) {
  auto w = llama_gguf_metadata();
  std::vector<float> factors(8, 1.0f);
  w.add_tensor("rope_freqs.weight", DType::F32, {8},
               std::vector<std::uint8_t>(reinterpret_cast<std::uint8_t*>(factors.data()),
                                         reinterpret_cast<std::uint8_t*>(factors.data()) + 32));
  EXPECT_EQ(config_from_gguf(*open_gguf(w)).rope_scaling.type, RopeScalingType::kFreqFactors);
}

TEST(ModelConfigGguf, VocabFromTokenListWhenNoKey) {
  auto w = llama_gguf_metadata();
  w.remove("llama.vocab_size");
  w.set_string_array("tokenizer.ggml.tokens", std::vector<std::string>(300, "a"));
  EXPECT_EQ(config_from_gguf(*open_gguf(w)).vocab_size, 300);
  w.remove("tokenizer.ggml.tokens");
  EXPECT_THAT(error_of([&] { config_from_gguf(*open_gguf(w)); }), HasSubstr("vocabulary size is unknown"));
}

TEST(ModelConfigGguf, MissingAndUnsupportedKeys) {
  auto w = llama_gguf_metadata();
  w.remove("llama.attention.head_count");
  auto e = error_of([&] { config_from_gguf(*open_gguf(w)); });
  EXPECT_THAT(e, HasSubstr("test.gguf"));
  EXPECT_THAT(e, HasSubstr("llama.attention.head_count"));
  auto w2 = llama_gguf_metadata();
  w2.set_string("general.architecture", "phi3");
  EXPECT_THAT(error_of([&] { config_from_gguf(*open_gguf(w2)); }), HasSubstr("'phi3'"));
  auto w3 = llama_gguf_metadata();
  w3.set_string("llama.rope.scaling.type", "longrope");
  EXPECT_THAT(error_of([&] { config_from_gguf(*open_gguf(w3)); }), HasSubstr("longrope"));
  auto w4 = llama_gguf_metadata();
  w4.set_string("llama.block_count", "two");
  EXPECT_THAT(error_of([&] { config_from_gguf(*open_gguf(w4)); }), HasSubstr("llama.block_count"));
}

TEST(ModelConfigGguf, SlidingWindowOnlyForGemma3) {
  auto w = llama_gguf_metadata();
  w.set_uint32("llama.attention.sliding_window", 64);  // llama.cpp ignores it for llama
  EXPECT_EQ(config_from_gguf(*open_gguf(w)).sliding_window, 0);

  gguf::GgufWriter g;
  g.set_string("general.architecture", "gemma3");
  g.set_uint32("gemma3.block_count", 4);
  g.set_uint32("gemma3.context_length", 512);
  g.set_uint32("gemma3.embedding_length", 32);
  g.set_uint32("gemma3.feed_forward_length", 64);
  g.set_uint32("gemma3.attention.head_count", 2);
  g.set_uint32("gemma3.attention.head_count_kv", 1);
  g.set_uint32("gemma3.attention.key_length", 16);
  g.set_uint32("gemma3.attention.value_length", 16);
  g.set_float32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  g.set_uint32("gemma3.attention.sliding_window", 8);
  g.set_uint32("gemma3.vocab_size", 64);
  g.set_uint32("gemma3.attention.sliding_window_pattern", 2);
  auto c = config_from_gguf(*open_gguf(g));
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{true, false, true, false}));
  EXPECT_DOUBLE_EQ(c.rope_theta_local, 10000.0);
  g.set_uint32("gemma3.attention.value_length", 32);
  EXPECT_THAT(error_of([&] { config_from_gguf(*open_gguf(g)); }), HasSubstr("value_length"));
}

const std::string kSmolGguf = std::string(EAQ_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kGemmaGguf = std::string(EAQ_SOURCE_DIR) + "/models/gemma-3-270m-q4_k_m.gguf";

TEST(ModelConfigGguf, RealSmolLm2) {
  if (!std::filesystem::exists(kSmolGguf)) GTEST_SKIP() << kSmolGguf << " not found (run scripts/setup.sh)";
  auto c = config_from_gguf(*gguf::GgufFile::open(kSmolGguf));
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.context_length, 8192);
  EXPECT_DOUBLE_EQ(c.rope_theta, 100000.0);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNormal);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{2}));
}

TEST(ModelConfigGguf, RealGemma3) {
  if (!std::filesystem::exists(kGemmaGguf)) GTEST_SKIP() << kGemmaGguf << " not found (run scripts/setup.sh)";
  auto c = config_from_gguf(*gguf::GgufFile::open(kGemmaGguf));
  EXPECT_EQ(c.architecture, Architecture::kGemma3);
  EXPECT_EQ(c.n_layers, 18);
  EXPECT_EQ(c.hidden_size, 640);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.vocab_size, 262144);
  EXPECT_EQ(c.context_length, 32768);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNeox);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_theta_local, 1e4);
  EXPECT_EQ(c.sliding_window, 512);
  for (int i = 0; i < 18; ++i) EXPECT_EQ(c.is_sliding(i), i % 6 != 5) << i;
  EXPECT_FALSE(c.norm_adds_one);
  EXPECT_DOUBLE_EQ(c.embedding_scale, std::sqrt(640.0));
  EXPECT_DOUBLE_EQ(c.attention_scale, 1.0 / 16.0);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);
  EXPECT_EQ(c.bos_token_id, 2);
}

TEST(ModelConfigLlama2c, FromHeader) {
  llama2c::Llama2cHeader h;
  h.dim = 64;
  h.hidden_dim = 172;
  h.n_layers = 5;
  h.n_heads = 8;
  h.n_kv_heads = 4;
  h.vocab_size = 512;
  h.seq_len = 512;
  auto c = config_from_llama2c(h, "x.bin");
  EXPECT_EQ(c.format, ModelFormat::kLlama2c);
  EXPECT_EQ(c.rope_layout, RopeLayout::kNormal);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.kv_dim(), 32);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
}

}  // namespace
}  // namespace eaq::model
