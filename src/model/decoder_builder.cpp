// build_decoder_lm: resolves tensors by canonical name, checks shapes against the config, and
// converts norms/biases to f32 and matrices to the compute dtype through a WeightArena.
#include "model/decoder_builder.h"

#include <cmath>
#include <fmt/format.h>

#include "core/error.h"
#include "model/rope_frequencies.h"
#include "model/weight_arena.h"

namespace eaq::model {

namespace {

class Resolver {
 public:
  Resolver(const TensorLookup& lookup, WeightArena& arena, DType matrix_target_for_quantized,
           const EngineOptions& options)
      : lookup_(lookup), arena_(arena), quantized_target_(matrix_target_for_quantized),
        forced_(options.weight_dtype), plan_(options.matrix_dtype), quantize_row_(options.quantize_row) {}

  const TensorView& require(const std::string& name) const {
    const TensorView* t = lookup_(name);
    if (t == nullptr) fail("the model has no tensor '{}', which its architecture needs; the file is incomplete or mislabelled", name);
    return *t;
  }
  const TensorView* find(const std::string& name) const { return lookup_(name); }

  static void check_shape(const std::string& name, const TensorView& t, std::vector<std::int64_t> expected) {
    if (t.shape != expected) {
      fail("tensor '{}' has shape [{}], expected [{}] from the model config", name,
           fmt::join(t.shape, ", "), fmt::join(expected, ", "));
    }
  }

  kernels::WeightRef matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
    const TensorView& t = require(name);
    check_shape(name, t, {rows, cols});
    DType target = plan_    ? plan_(name, t.dtype, cols)
                   : forced_ ? *forced_
                   : (t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16) ? t.dtype
                                                                                                 : quantized_target_;
    return arena_.matrix(t.dtype, rows, cols, t.data, target, quantize_row_);
  }
  const float* vector(const std::string& name, std::int64_t n, float add = 0.0f) {
    const TensorView& t = require(name);
    check_shape(name, t, {n});
    return arena_.vector_f32(t.dtype, n, t.data, add);
  }
  const float* optional_vector(const std::string& name, std::int64_t n) {
    return find(name) ? vector(name, n) : nullptr;
  }

 private:
  const TensorLookup& lookup_;
  WeightArena& arena_;
  DType quantized_target_;
  std::optional<DType> forced_;
  std::function<DType(std::string_view, DType, std::int64_t)> plan_;
  QuantizeRowFn quantize_row_;
};

}  // namespace

std::unique_ptr<DecoderLm> build_decoder_lm(const ModelConfig& c, const TensorLookup& tensors,
                                            std::shared_ptr<const void> keep_alive,
                                            const EngineOptions& options) {
  validate(c, "model config");
  if (options.weight_dtype && *options.weight_dtype != DType::F32 && *options.weight_dtype != DType::F16 &&
      *options.weight_dtype != DType::BF16) {
    fail("the CPU engine runs weights as f32, f16 or bf16, not {}", dtype_name(*options.weight_dtype));
  }
  auto arena = std::make_shared<WeightArena>();
  Resolver r(tensors, *arena, DType::F32, options);

  DecoderSpec spec;
  spec.architecture = std::string(architecture_name(c.architecture));
  spec.n_layers = c.n_layers;
  spec.hidden_size = c.hidden_size;
  spec.intermediate_size = c.intermediate_size;
  spec.n_heads = c.n_heads;
  spec.n_kv_heads = c.n_kv_heads;
  spec.head_dim = c.head_dim;
  spec.vocab_size = c.vocab_size;
  spec.context_length = c.context_length;
  spec.rms_norm_eps = static_cast<float>(c.rms_norm_eps);
  spec.norm_weight_offset = c.norm_adds_one ? 1.0f : 0.0f;
  spec.embedding_scale = static_cast<float>(c.embedding_scale);
  spec.attention_scale = c.attention_scale > 0 ? static_cast<float>(c.attention_scale)
                                               : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  spec.attn_logit_softcap = static_cast<float>(c.attn_logit_softcapping);
  spec.final_logit_softcap = static_cast<float>(c.final_logit_softcapping);
  spec.activation = c.activation;
  spec.rope_layout = c.rope_layout == RopeLayout::kNormal ? kernels::RopeLayout::kNormal : kernels::RopeLayout::kNeox;
  if (c.rope_dim != c.head_dim) {
    fail("partial rotary embeddings (rope_dim {} < head_dim {}) are not supported", c.rope_dim, c.head_dim);
  }
  const float* freq_factors = nullptr;
  std::vector<float> freq_factor_values;
  if (c.rope_scaling.type == RopeScalingType::kFreqFactors) {
    freq_factors = r.vector("rope_freqs.weight", c.rope_dim / 2);
  }
  RopeFrequencies global = compute_rope_frequencies(c.rope_theta, c.rope_dim, c.rope_scaling, freq_factors);
  spec.rope_inv_freq_global = global.inv_freq;
  spec.rope_attention_factor = global.attention_factor;
  if (c.architecture == Architecture::kGemma3) {
    spec.rope_inv_freq_sliding = compute_rope_frequencies(c.rope_theta_local, c.rope_dim, RopeScaling{}).inv_freq;
  }
  spec.sliding_window = c.sliding_window;
  spec.sandwich_norms = c.post_norms;
  spec.qk_norm = c.qk_norm;

  const std::int64_t H = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  DecoderWeights w;
  w.token_embedding = r.matrix("token_embd.weight", c.vocab_size, H);
  w.final_norm = r.vector("output_norm.weight", H);
  if (const TensorView* out = r.find("output.weight"); out != nullptr && !c.tied_embeddings) {
    w.output = r.matrix("output.weight", c.vocab_size, H);
  } else {
    w.output = w.token_embedding;
  }
  for (std::int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    DecoderLayerWeights L;
    L.is_sliding = c.is_sliding(l);
    L.attn_norm = r.vector(p + "attn_norm.weight", H);
    L.wq = r.matrix(p + "attn_q.weight", c.q_dim(), H);
    L.wk = r.matrix(p + "attn_k.weight", c.kv_dim(), H);
    L.wv = r.matrix(p + "attn_v.weight", c.kv_dim(), H);
    L.wo = r.matrix(p + "attn_output.weight", H, c.q_dim());
    if (c.qkv_bias) {
      L.bq = r.vector(p + "attn_q.bias", c.q_dim());
      L.bk = r.vector(p + "attn_k.bias", c.kv_dim());
      L.bv = r.vector(p + "attn_v.bias", c.kv_dim());
    }
    if (c.attn_output_bias) L.bo = r.vector(p + "attn_output.bias", H);
    if (c.qk_norm) {
      L.q_norm = r.vector(p + "attn_q_norm.weight", hd);
      L.k_norm = r.vector(p + "attn_k_norm.weight", hd);
    }
    if (c.post_norms) {
      L.post_attn_norm = r.vector(p + "post_attention_norm.weight", H);
      L.post_ffn_norm = r.vector(p + "post_ffw_norm.weight", H);
    }
    L.ffn_norm = r.vector(p + "ffn_norm.weight", H);
    L.w_gate = r.matrix(p + "ffn_gate.weight", I, H);
    L.w_up = r.matrix(p + "ffn_up.weight", I, H);
    L.w_down = r.matrix(p + "ffn_down.weight", H, I);
    w.layers.push_back(L);
  }
  struct Owned {
    std::shared_ptr<const void> source;
    std::shared_ptr<WeightArena> arena;
  };
  auto owned = std::make_shared<Owned>(Owned{std::move(keep_alive), arena});
  return std::make_unique<DecoderLm>(std::move(spec), std::move(w), owned, options.n_threads);
}

}  // namespace eaq::model
