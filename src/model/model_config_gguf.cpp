// GGUF metadata → ModelConfig. Keys follow llama.cpp's llama-arch.cpp (`{arch}.block_count`, ...);
// where llama.cpp hard-codes a family constant instead of reading a key (gemma3's local rope base
// and sliding pattern), the same constant is used here and named.
#include <cmath>

#include "core/error.h"
#include "io/gguf_file.h"
#include "model/model_config.h"

namespace eaq::model {

namespace {

// llama.cpp (llama-model.cpp, LLM_ARCH_GEMMA3): rope_freq_base_train_swa = 10000 and
// set_swa_pattern(6) — every 6th layer global — when the file does not say otherwise.
constexpr double kGemma3LocalRopeBase = 10000.0;
constexpr std::int64_t kGemma3SlidingPattern = 6;
constexpr std::int64_t kMaxLayers = 1 << 12;  // as validate(); checked early to bound allocations

std::int64_t required_int(const gguf::GgufFile& f, const std::string& key) {
  return f.get(key).as_int(key);
}

}  // namespace

ModelConfig config_from_gguf(const gguf::GgufFile& f) {
  ModelConfig c;
  c.format = ModelFormat::kGguf;
  const std::string arch = f.get("general.architecture").as_string("general.architecture");
  c.source_architecture = arch;
  if (const gguf::Value* v = f.find("eaq.synthetic")) c.synthetic = v->as_bool("eaq.synthetic");
  if (arch == "llama") {
    c.architecture = Architecture::kLlama;
  } else if (arch == "qwen2") {
    c.architecture = Architecture::kQwen2;
  } else if (arch == "gemma3") {
    c.architecture = Architecture::kGemma3;
  } else {
    fail("'{}': general.architecture is '{}', which eaq does not run (supported: llama, qwen2, gemma3)",
         f.path(), arch);
  }
  const bool gemma = c.architecture == Architecture::kGemma3;
  auto key = [&](std::string_view suffix) { return arch + "." + std::string(suffix); };

  c.n_layers = required_int(f, key("block_count"));
  if (c.n_layers <= 0 || c.n_layers > kMaxLayers) {
    fail("'{}': {} = {} is outside 1..{}", f.path(), key("block_count"), c.n_layers, kMaxLayers);
  }
  c.hidden_size = required_int(f, key("embedding_length"));
  c.intermediate_size = required_int(f, key("feed_forward_length"));
  c.n_heads = required_int(f, key("attention.head_count"));
  // llama.cpp's default when absent: no grouping.
  c.n_kv_heads = f.get_int(key("attention.head_count_kv")).value_or(c.n_heads);
  if (c.n_heads <= 0) fail("'{}': {} = {} must be positive", f.path(), key("attention.head_count"), c.n_heads);
  c.head_dim = f.get_int(key("attention.key_length")).value_or(c.hidden_size / c.n_heads);
  if (auto v = f.get_int(key("attention.value_length")); v && *v != c.head_dim) {
    fail("'{}': {} = {} differs from the key length {}; eaq needs equal key and value head sizes",
         f.path(), key("attention.value_length"), *v, c.head_dim);
  }
  c.context_length = required_int(f, key("context_length"));
  c.rms_norm_eps = f.get(key("attention.layer_norm_rms_epsilon")).as_double(key("attention.layer_norm_rms_epsilon"));

  // Vocabulary size: the explicit key, else the tokenizer's token list (as llama.cpp does).
  if (auto v = f.get_int(key("vocab_size"))) {
    c.vocab_size = *v;
  } else if (const auto* tokens = f.find("tokenizer.ggml.tokens")) {
    c.vocab_size = static_cast<std::int64_t>(tokens->as_array("tokenizer.ggml.tokens").items.size());
  } else {
    fail("'{}' has neither '{}' nor 'tokenizer.ggml.tokens', so its vocabulary size is unknown",
         f.path(), key("vocab_size"));
  }

  // llama.cpp's converter permutes llama q/k back to Meta's interleaved layout; qwen2 and gemma3
  // GGUFs keep HF's (see FORMATS.md).
  c.rope_layout = c.architecture == Architecture::kLlama ? RopeLayout::kNormal : RopeLayout::kNeox;
  c.rope_dim = f.get_int(key("rope.dimension_count")).value_or(c.head_dim);
  c.rope_theta = f.get_double(key("rope.freq_base")).value_or(10000.0);
  c.rope_theta_local = gemma ? f.get_double(key("rope.freq_base_swa")).value_or(kGemma3LocalRopeBase) : c.rope_theta;

  auto& rs = c.rope_scaling;
  std::string scaling_type = f.get_string(key("rope.scaling.type")).value_or("none");
  double factor = f.get_double(key("rope.scaling.factor")).value_or(0.0);
  if (auto legacy = f.get_double(key("rope.scale_linear")); legacy && scaling_type == "none" && *legacy != 1.0) {
    scaling_type = "linear";
    factor = *legacy;
  }
  if (scaling_type == "linear") {
    rs.type = RopeScalingType::kLinear;
    rs.factor = factor;
  } else if (scaling_type == "yarn") {
    rs.type = RopeScalingType::kYarn;
    rs.factor = factor;
    rs.original_max_position_embeddings = required_int(f, key("rope.scaling.original_context_length"));
    rs.beta_fast = f.get_double(key("rope.scaling.yarn_beta_fast")).value_or(32.0);
    rs.beta_slow = f.get_double(key("rope.scaling.yarn_beta_slow")).value_or(1.0);
    if (auto a = f.get_double(key("rope.scaling.attn_factor"))) rs.attention_factor = *a;
  } else if (scaling_type != "none") {
    fail("'{}': {} = '{}' is not supported (eaq handles none, linear, yarn, and llama3 via rope_freqs)",
         f.path(), key("rope.scaling.type"), scaling_type);
  }
  if (f.find_tensor("rope_freqs.weight") != nullptr) {
    if (rs.type != RopeScalingType::kNone) {
      fail("'{}' has both {} = '{}' and a rope_freqs tensor; eaq cannot combine them", f.path(),
           key("rope.scaling.type"), scaling_type);
    }
    rs.type = RopeScalingType::kFreqFactors;
  }

  c.qkv_bias = c.architecture == Architecture::kQwen2 || f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.attn_output_bias = f.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;

  // llama.cpp reads the sliding window only for families that use it (of ours, gemma3); a llama or
  // qwen2 GGUF that carries the key runs with full attention there, so it does here.
  if (auto window = gemma ? f.get_int(key("attention.sliding_window")) : std::nullopt; window && *window > 0) {
    c.sliding_window = *window;
    c.sliding_layers.assign(static_cast<std::size_t>(c.n_layers), false);
    const gguf::Value* pattern = f.find(key("attention.sliding_window_pattern"));
    if (pattern != nullptr && pattern->type == gguf::ValueType::kArray) {
      const auto& items = pattern->as_array(key("attention.sliding_window_pattern")).items;
      if (static_cast<std::int64_t>(items.size()) != c.n_layers) {
        fail("'{}': {} lists {} layers, the model has {}", f.path(), key("attention.sliding_window_pattern"),
             items.size(), c.n_layers);
      }
      for (std::size_t i = 0; i < items.size(); ++i) {
        c.sliding_layers[i] = items[i].as_bool(key("attention.sliding_window_pattern"));
      }
    } else {
      std::int64_t n = pattern != nullptr ? pattern->as_int(key("attention.sliding_window_pattern"))
                                          : kGemma3SlidingPattern;
      if (n < 0) fail("'{}': {} = {} is negative", f.path(), key("attention.sliding_window_pattern"), n);
      // llama.cpp set_swa_pattern: layer il slides unless il % n == n - 1; n == 0 → all slide.
      for (std::size_t i = 0; i < c.sliding_layers.size(); ++i) {
        c.sliding_layers[i] = n == 0 || static_cast<std::int64_t>(i) % n < n - 1;
      }
    }
  }

  if (gemma) {
    c.qk_norm = true;
    c.post_norms = true;
    c.embedding_scale = std::sqrt(static_cast<double>(c.hidden_size));
    c.norm_adds_one = false;  // the converter already added 1 to every *norm.weight
    c.activation = Activation::kGeluTanh;
  }
  // `{arch}.attention.scale` is the score multiplier itself when a converter writes it.
  c.attention_scale = f.get_double(key("attention.scale")).value_or(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
  c.final_logit_softcapping = f.get_double(key("final_logit_softcapping")).value_or(0.0);
  c.attn_logit_softcapping = f.get_double(key("attn_logit_softcapping")).value_or(0.0);

  c.bos_token_id = f.get_int("tokenizer.ggml.bos_token_id");
  if (auto eos = f.get_int("tokenizer.ggml.eos_token_id")) c.eos_token_ids.push_back(*eos);
  if (auto eot = f.get_int("tokenizer.ggml.eot_token_id"); eot && (c.eos_token_ids.empty() || *eot != c.eos_token_ids[0])) {
    c.eos_token_ids.push_back(*eot);
  }
  validate(c, f.path());
  return c;
}

}  // namespace eaq::model
