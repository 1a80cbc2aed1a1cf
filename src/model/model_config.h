// ModelConfig: the one description of a decoder-only transformer that every engine reads, filled
// from GGUF metadata, a Hugging Face config.json or a llama2.c header. Fields that depend on where
// the weights came from (rope layout, whether RMSNorm adds 1 at run time) are decided here, once,
// so forward code never guesses. The architecture comes from explicit metadata only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::gguf {
class GgufFile;
}
namespace eaq::io {
class HfConfig;
}
namespace eaq::llama2c {
struct Llama2cHeader;
}

namespace eaq::model {

// Families eaq runs. kLlama covers Llama-2/3, Mistral, SmolLM2, DeepSeek-Coder and llama2.c;
// kQwen2 covers Qwen2/2.5 and DeepSeek-R1-Distill-Qwen; kGemma3 the Gemma 3 text models.
enum class Architecture { kLlama, kQwen2, kGemma3 };
std::string_view architecture_name(Architecture a);  // "llama", "qwen2", "gemma3"

// Where the weights came from.
enum class ModelFormat { kGguf, kSafetensors, kLlama2c };
std::string_view model_format_name(ModelFormat f);  // "gguf", "safetensors", "llama2c"

// kNormal: rotate adjacent pairs (2i, 2i+1) — Meta's layout, kept by llama2.c and restored by
// llama.cpp's converter for `llama` GGUFs. kNeox: rotate_half, i pairs with i + rope_dim/2 — HF
// transformers for every family, and qwen2/gemma3 GGUFs.
enum class RopeLayout { kNormal, kNeox };
std::string_view rope_layout_name(RopeLayout l);  // "normal", "neox"

enum class RopeScalingType {
  kNone,
  kLinear,  // positions divided by factor (DeepSeek-Coder)
  kLlama3,  // frequency-dependent scaling of Llama 3.1+ (factor, low/high_freq_factor, original ctx)
  kYarn,    // YaRN (factor, original ctx, beta_fast, beta_slow, attention_factor)
  // GGUF llama3-style: per-frequency divisors precomputed by the converter in the tensor
  // `rope_freqs.weight` (rope_dim/2 floats); theta_i = pos * base^(-2i/d) / rope_freqs[i].
  kFreqFactors,
};
std::string_view rope_scaling_type_name(RopeScalingType t);

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;                        // llama3
  double high_freq_factor = 4.0;                       // llama3
  std::int64_t original_max_position_embeddings = 0;   // llama3, yarn
  double beta_fast = 32.0;                             // yarn
  double beta_slow = 1.0;                              // yarn
  std::optional<double> attention_factor;              // yarn; when absent 0.1·ln(factor) + 1
};

enum class Activation {
  kSilu,      // SwiGLU: down(silu(gate(x)) * up(x))
  kGeluTanh,  // GeGLU with the tanh approximation (gelu_pytorch_tanh)
};
std::string_view activation_name(Activation a);

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  // The name as the file gave it: GGUF general.architecture, HF model_type, or "llama2c".
  std::string source_architecture;
  ModelFormat format = ModelFormat::kGguf;

  std::int64_t n_layers = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;
  std::int64_t head_dim = 0;  // explicit: gemma3 has head_dim != hidden_size / n_heads
  std::int64_t vocab_size = 0;
  std::int64_t context_length = 0;
  double rms_norm_eps = 1e-5;

  // RoPE. rope_dim is the number of rotated dimensions of each head (== head_dim for all
  // supported families). Sliding-window layers of gemma3 use rope_theta_local without scaling;
  // the other layers (and every layer of other families) use rope_theta and rope_scaling.
  RopeLayout rope_layout = RopeLayout::kNeox;
  std::int64_t rope_dim = 0;
  double rope_theta = 10000.0;
  double rope_theta_local = 10000.0;
  RopeScaling rope_scaling;

  bool qkv_bias = false;          // biases on q, k, v projections (qwen2)
  bool attn_output_bias = false;  // bias on the output projection (HF llama attention_bias)
  bool qk_norm = false;           // RMSNorm of each q and k head before RoPE (gemma3)
  bool tied_embeddings = false;   // no output.weight: logits use token_embd.weight

  // Sliding-window attention: a layer with sliding_layers[i] attends to the last
  // `sliding_window` positions only. Empty vector or window 0 = every layer is global.
  std::int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  bool is_sliding(std::int64_t layer) const {
    return sliding_window > 0 && layer < static_cast<std::int64_t>(sliding_layers.size()) &&
           sliding_layers[static_cast<std::size_t>(layer)];
  }

  // Gemma specifics.
  double embedding_scale = 1.0;  // token embeddings multiplied by this (sqrt(hidden_size) for gemma)
  // RMSNorm computes x·(1 + w) at run time: true for HF gemma weights; false when the +1 is
  // already in the stored weights (gemma GGUFs) or the family has no +1.
  bool norm_adds_one = false;
  bool post_norms = false;  // gemma: extra RMSNorm after attention and after the FFN
  double attention_scale = 0.0;  // scores = q·k × this; 1/sqrt(query_pre_attn_scalar or head_dim)
  double final_logit_softcapping = 0.0;  // 0 = none; else logits = c·tanh(logits / c)
  double attn_logit_softcapping = 0.0;   // 0 = none
  Activation activation = Activation::kSilu;

  // Random weights written by `eaq synth` (config.json "eaq_synthetic", GGUF eaq.synthetic):
  // speed and energy mean something, accuracy does not; every output naming the model says so.
  bool synthetic = false;
  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;  // HF allows several (Llama 3: <|end_of_text|>, <|eot_id|>)

  std::int64_t q_dim() const { return n_heads * head_dim; }
  std::int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// Checks internal consistency (positive sizes, heads divide, sliding_layers length, ...);
// eaq::Error naming `source` (the file) and the field otherwise.
void validate(const ModelConfig& config, std::string_view source);

// The three sources. Each names the file and key in its errors; architecture comes from
// general.architecture / model_type (or architectures[0]) only. GGUF has no tie flag: embeddings
// are tied when the file holds no output.weight. The result is validate()d.
ModelConfig config_from_gguf(const gguf::GgufFile& file);
ModelConfig config_from_hf(const io::HfConfig& config);
ModelConfig config_from_llama2c(const llama2c::Llama2cHeader& header, std::string_view path);

}  // namespace eaq::model
