// ModelConfig: names of its enums, validation, and the llama2.c mapping (GGUF and HF mappings are
// in model_config_gguf.cpp and model_config_hf.cpp).
#include "model/model_config.h"

#include <cmath>

#include "core/error.h"
#include "io/llama2c_checkpoint.h"

namespace eaq::model {

std::string_view architecture_name(Architecture a) {
  switch (a) {
    case Architecture::kLlama: return "llama";
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kGemma3: return "gemma3";
  }
  return "unknown";
}

std::string_view model_format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::kGguf: return "gguf";
    case ModelFormat::kSafetensors: return "safetensors";
    case ModelFormat::kLlama2c: return "llama2c";
  }
  return "unknown";
}

std::string_view rope_layout_name(RopeLayout l) { return l == RopeLayout::kNormal ? "normal" : "neox"; }

std::string_view rope_scaling_type_name(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::kNone: return "none";
    case RopeScalingType::kLinear: return "linear";
    case RopeScalingType::kLlama3: return "llama3";
    case RopeScalingType::kYarn: return "yarn";
    case RopeScalingType::kFreqFactors: return "freq_factors";
  }
  return "unknown";
}

std::string_view activation_name(Activation a) {
  return a == Activation::kSilu ? "silu" : "gelu_pytorch_tanh";
}

void validate(const ModelConfig& c, std::string_view source) {
  auto positive = [&](std::string_view field, std::int64_t v, std::int64_t max) {
    if (v <= 0 || v > max) {
      fail("'{}': {} = {} is outside 1..{}; the model file's metadata is wrong", source, field, v, max);
    }
  };
  positive("n_layers", c.n_layers, 1 << 12);
  positive("hidden_size", c.hidden_size, 1 << 18);
  positive("intermediate_size", c.intermediate_size, 1 << 20);
  positive("n_heads", c.n_heads, 1 << 12);
  positive("n_kv_heads", c.n_kv_heads, 1 << 12);
  positive("head_dim", c.head_dim, 1 << 14);
  positive("vocab_size", c.vocab_size, 1 << 24);
  positive("context_length", c.context_length, std::int64_t{1} << 32);
  if (c.n_heads % c.n_kv_heads != 0) {
    fail("'{}': n_kv_heads = {} does not divide n_heads = {}", source, c.n_kv_heads, c.n_heads);
  }
  if (c.rope_dim <= 0 || c.rope_dim > c.head_dim || c.rope_dim % 2 != 0) {
    fail("'{}': rope dimension {} must be even and within head_dim {}", source, c.rope_dim, c.head_dim);
  }
  if (!(c.rms_norm_eps > 0.0 && c.rms_norm_eps < 1.0)) {
    fail("'{}': rms_norm_eps = {} is not in (0, 1)", source, c.rms_norm_eps);
  }
  if (!(c.rope_theta > 1.0) || !(c.rope_theta_local > 1.0)) {
    fail("'{}': rope theta {} / local {} must be > 1", source, c.rope_theta, c.rope_theta_local);
  }
  if (c.rope_scaling.type != RopeScalingType::kNone && c.rope_scaling.type != RopeScalingType::kFreqFactors &&
      !(c.rope_scaling.factor > 0.0)) {
    fail("'{}': rope scaling factor {} must be > 0", source, c.rope_scaling.factor);
  }
  if ((c.rope_scaling.type == RopeScalingType::kLlama3 || c.rope_scaling.type == RopeScalingType::kYarn) &&
      c.rope_scaling.original_max_position_embeddings <= 0) {
    fail("'{}': {} rope scaling needs original_max_position_embeddings > 0", source,
         rope_scaling_type_name(c.rope_scaling.type));
  }
  if (c.rope_scaling.type == RopeScalingType::kLlama3 &&
      !(c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor)) {
    fail("'{}': llama3 rope scaling needs high_freq_factor > low_freq_factor (got {} and {})", source,
         c.rope_scaling.high_freq_factor, c.rope_scaling.low_freq_factor);
  }
  if (c.sliding_window < 0) fail("'{}': sliding_window = {} is negative", source, c.sliding_window);
  if (c.sliding_window > 0 && static_cast<std::int64_t>(c.sliding_layers.size()) != c.n_layers) {
    fail("'{}': {} layers are marked sliding or global but the model has {} layers", source,
         c.sliding_layers.size(), c.n_layers);
  }
  if (!(c.attention_scale > 0.0)) fail("'{}': attention scale {} must be > 0", source, c.attention_scale);
  if (c.final_logit_softcapping < 0.0 || c.attn_logit_softcapping < 0.0) {
    fail("'{}': logit softcapping values must not be negative", source);
  }
  if (c.bos_token_id && (*c.bos_token_id < 0 || *c.bos_token_id >= c.vocab_size)) {
    fail("'{}': bos token id {} is outside the vocabulary (0..{})", source, *c.bos_token_id, c.vocab_size - 1);
  }
  for (auto id : c.eos_token_ids) {
    if (id < 0 || id >= c.vocab_size) {
      fail("'{}': eos token id {} is outside the vocabulary (0..{})", source, id, c.vocab_size - 1);
    }
  }
}

ModelConfig config_from_llama2c(const llama2c::Llama2cHeader& h, std::string_view path) {
  ModelConfig c;
  c.architecture = Architecture::kLlama;
  c.source_architecture = "llama2c";
  c.format = ModelFormat::kLlama2c;
  c.n_layers = h.n_layers;
  c.hidden_size = h.dim;
  c.intermediate_size = h.hidden_dim;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.head_dim = h.head_size();
  c.vocab_size = h.vocab_size;
  c.context_length = h.seq_len;
  c.rms_norm_eps = 1e-5;  // run.c rmsnorm
  c.rope_layout = RopeLayout::kNormal;  // run.c rotates adjacent pairs
  c.rope_dim = c.head_dim;
  c.rope_theta = 10000.0;  // run.c: 1 / 10000^(head_dim_index / head_size)
  c.rope_theta_local = c.rope_theta;
  c.tied_embeddings = h.shared_classifier;
  c.attention_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  c.activation = Activation::kSilu;
  // llama2.c's tokenizer.bin: 0 <unk>, 1 <s>, 2 </s>; run.c stops at BOS (1) and eos is 2.
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  validate(c, path);
  return c;
}

}  // namespace eaq::model
