// Hugging Face config.json → ModelConfig. Keys and defaults follow transformers' LlamaConfig,
// MistralConfig, Qwen2Config and Gemma3TextConfig: where transformers has a default for an
// absent key, the same default is used; the sizes that define the model are required.
#include <cmath>

#include "core/error.h"
#include "io/hf_config.h"
#include "model/model_config.h"

namespace eaq::model {

namespace {

constexpr std::int64_t kMaxLayers = 1 << 12;  // as validate(); checked early to bound allocations

struct FamilyName {
  std::string_view model_type;
  std::string_view class_name;  // architectures[0]
  Architecture architecture;
};
constexpr FamilyName kFamilies[] = {
    {"llama", "LlamaForCausalLM", Architecture::kLlama},
    {"mistral", "MistralForCausalLM", Architecture::kLlama},
    {"qwen2", "Qwen2ForCausalLM", Architecture::kQwen2},
    {"gemma3_text", "Gemma3ForCausalLM", Architecture::kGemma3},
};

std::string supported_list() {
  std::string s;
  for (const auto& f : kFamilies) s += (s.empty() ? "" : ", ") + std::string(f.model_type);
  return s;
}

// One rope_scaling / rope_parameters object → RopeScaling.
RopeScaling parse_rope_scaling(const io::HfConfig& s) {
  RopeScaling rs;
  std::string type = s.find_string("rope_type").value_or(s.find_string("type").value_or("default"));
  if (type == "default") return rs;
  if (type == "linear") {
    rs.type = RopeScalingType::kLinear;
    rs.factor = s.get_double("factor");
  } else if (type == "llama3") {
    rs.type = RopeScalingType::kLlama3;
    rs.factor = s.get_double("factor");
    rs.low_freq_factor = s.get_double("low_freq_factor");
    rs.high_freq_factor = s.get_double("high_freq_factor");
    rs.original_max_position_embeddings = s.get_int("original_max_position_embeddings");
  } else if (type == "yarn") {
    rs.type = RopeScalingType::kYarn;
    rs.factor = s.get_double("factor");
    rs.beta_fast = s.find_double("beta_fast").value_or(32.0);
    rs.beta_slow = s.find_double("beta_slow").value_or(1.0);
    rs.attention_factor = s.find_double("attention_factor");
    if (auto o = s.find_int("original_max_position_embeddings")) rs.original_max_position_embeddings = *o;
  } else {
    fail("'{}': rope type '{}' is not supported (eaq handles default, linear, llama3 and yarn)", s.where(),
         type);
  }
  return rs;
}

Activation parse_activation(const io::HfConfig& h, std::string_view key, std::string_view fallback) {
  std::string name = h.find_string(key).value_or(std::string(fallback));
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return Activation::kGeluTanh;
  fail("'{}': {} = '{}' is not supported (eaq handles silu and gelu_pytorch_tanh)", h.where(), key, name);
}

}  // namespace

ModelConfig config_from_hf(const io::HfConfig& top) {
  // Multimodal gemma3 configs (model_type "gemma3") keep the language model in text_config.
  std::optional<io::HfConfig> nested;
  if (top.find_string("model_type") == "gemma3" && top.has("text_config")) nested = top.object("text_config");
  const io::HfConfig& h = nested ? *nested : top;

  ModelConfig c;
  c.format = ModelFormat::kSafetensors;
  std::optional<std::string> model_type = h.find_string("model_type");
  const FamilyName* family = nullptr;
  if (model_type) {
    for (const auto& f : kFamilies) {
      if (f.model_type == *model_type) family = &f;
    }
  } else {
    // No model_type: the class name in `architectures` is the other explicit statement.
    auto classes = top.find_string_list("architectures");
    if (classes.empty()) {
      fail("'{}' has neither 'model_type' nor 'architectures', so the model family is unknown", top.where());
    }
    model_type = classes[0];
    for (const auto& f : kFamilies) {
      if (f.class_name == classes[0]) family = &f;
    }
  }
  if (family == nullptr) {
    fail("'{}': model type '{}' is not supported (eaq runs: {})", h.where(), *model_type, supported_list());
  }
  c.architecture = family->architecture;
  c.source_architecture = std::string(family->model_type);
  c.synthetic = top.find_bool("eaq_synthetic").value_or(false);
  const bool gemma = c.architecture == Architecture::kGemma3;

  c.n_layers = h.get_int("num_hidden_layers");
  if (c.n_layers <= 0 || c.n_layers > kMaxLayers) {
    fail("'{}': num_hidden_layers = {} is outside 1..{}", h.where(), c.n_layers, kMaxLayers);
  }
  c.hidden_size = h.get_int("hidden_size");
  c.intermediate_size = h.get_int("intermediate_size");
  c.n_heads = h.get_int("num_attention_heads");
  if (c.n_heads <= 0) fail("'{}': num_attention_heads = {} must be positive", h.where(), c.n_heads);
  c.n_kv_heads = h.find_int("num_key_value_heads").value_or(c.n_heads);
  c.head_dim = h.find_int("head_dim").value_or(gemma ? 256 : c.hidden_size / c.n_heads);
  c.vocab_size = h.get_int("vocab_size");
  c.context_length = h.get_int("max_position_embeddings");
  c.rms_norm_eps = h.find_double("rms_norm_eps").value_or(1e-6);

  // RoPE: HF applies rotate_half to weights in their original layout.
  c.rope_layout = RopeLayout::kNeox;
  c.rope_dim = c.head_dim;
  std::optional<io::HfConfig> global_rope = h.object("rope_scaling");
  std::optional<io::HfConfig> local_rope;
  if (!global_rope) {
    global_rope = h.object("rope_parameters");  // transformers v5 naming
    if (global_rope && gemma && global_rope->has("full_attention")) {
      local_rope = global_rope->object("sliding_attention");
      global_rope = global_rope->object("full_attention");
    }
  }
  const double default_theta = gemma ? 1'000'000.0 : 10000.0;
  c.rope_theta = h.find_double("rope_theta").value_or(
      global_rope ? global_rope->find_double("rope_theta").value_or(default_theta) : default_theta);
  if (global_rope) c.rope_scaling = parse_rope_scaling(*global_rope);
  if (c.rope_scaling.type == RopeScalingType::kYarn && c.rope_scaling.original_max_position_embeddings == 0) {
    c.rope_scaling.original_max_position_embeddings = c.context_length;  // transformers' fallback
  }
  c.rope_theta_local = c.rope_theta;
  if (gemma) {
    c.rope_theta_local = h.find_double("rope_local_base_freq")
                             .value_or(local_rope ? local_rope->find_double("rope_theta").value_or(10000.0) : 10000.0);
  }

  if (h.find_bool("mlp_bias").value_or(false)) {
    fail("'{}': mlp_bias = true is not supported by eaq's llama-family engine", h.where());
  }
  if (c.architecture == Architecture::kQwen2) {
    c.qkv_bias = true;  // Qwen2Attention: bias on q, k, v always, none on o
  } else if (h.find_bool("attention_bias").value_or(false)) {
    c.qkv_bias = true;
    c.attn_output_bias = true;
  }
  c.tied_embeddings = h.find_bool("tie_word_embeddings").value_or(gemma);

  // Sliding windows. An explicit layer_types list wins; otherwise each family's rule.
  std::vector<std::string> layer_types = h.find_string_list("layer_types");
  std::optional<std::int64_t> window = h.find_int("sliding_window");
  if (c.architecture == Architecture::kLlama && family->model_type != "mistral") {
    window.reset();  // LlamaConfig has no sliding window
  } else if (c.architecture == Architecture::kQwen2 && !h.find_bool("use_sliding_window").value_or(false)) {
    window.reset();  // Qwen2Config ignores sliding_window unless use_sliding_window
  } else if (gemma && !window) {
    window = 4096;  // Gemma3TextConfig default
  }
  if (window && *window > 0) c.sliding_window = *window;
  if (!layer_types.empty()) {
    if (static_cast<std::int64_t>(layer_types.size()) != c.n_layers) {
      fail("'{}': layer_types lists {} layers, num_hidden_layers is {}", h.where(), layer_types.size(), c.n_layers);
    }
    c.sliding_layers.clear();
    for (const auto& t : layer_types) {
      if (t != "sliding_attention" && t != "full_attention") {
        fail("'{}': layer_types entry '{}' is not sliding_attention or full_attention", h.where(), t);
      }
      c.sliding_layers.push_back(t == "sliding_attention");
    }
  } else if (c.sliding_window > 0) {
    c.sliding_layers.assign(static_cast<std::size_t>(c.n_layers), true);
    if (gemma) {
      // Gemma3TextConfig: layer i is global when (i + 1) % sliding_window_pattern == 0.
      std::int64_t pattern = h.find_int("sliding_window_pattern").value_or(6);
      if (pattern <= 0) fail("'{}': sliding_window_pattern = {} must be positive", h.where(), pattern);
      for (std::int64_t i = 0; i < c.n_layers; ++i) c.sliding_layers[i] = (i + 1) % pattern != 0;
    } else if (c.architecture == Architecture::kQwen2) {
      std::int64_t first = h.find_int("max_window_layers").value_or(28);
      for (std::int64_t i = 0; i < c.n_layers; ++i) c.sliding_layers[i] = i >= first;
    }
  }
  if (c.sliding_window == 0) c.sliding_layers.clear();

  c.attention_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  if (gemma) {
    c.qk_norm = true;
    c.post_norms = true;
    c.embedding_scale = std::sqrt(static_cast<double>(c.hidden_size));
    c.norm_adds_one = true;  // Gemma3RMSNorm: x · (1 + w)
    c.attention_scale = 1.0 / std::sqrt(h.find_double("query_pre_attn_scalar").value_or(256.0));
    c.final_logit_softcapping = h.find_double("final_logit_softcapping").value_or(0.0);
    c.attn_logit_softcapping = h.find_double("attn_logit_softcapping").value_or(0.0);
    c.activation = parse_activation(h, h.has("hidden_activation") ? "hidden_activation" : "hidden_act",
                                    "gelu_pytorch_tanh");
  } else {
    c.activation = parse_activation(h, "hidden_act", "silu");
  }

  // Token ids sit at the top level of multimodal configs and in text_config of others.
  auto bos = h.find_int("bos_token_id");
  c.bos_token_id = bos ? bos : top.find_int("bos_token_id");
  c.eos_token_ids = h.find_int_list("eos_token_id");
  if (c.eos_token_ids.empty()) c.eos_token_ids = top.find_int_list("eos_token_id");
  validate(c, h.where());
  return c;
}

}  // namespace eaq::model
