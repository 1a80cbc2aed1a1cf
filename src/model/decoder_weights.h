// DecoderWeights / DecoderSpec: what a decoder-only transformer forward pass needs, resolved
// from a loaded model (its config and canonical tensors) by model/causal_lm_factory.cpp.
// Norm weights and biases are f32 (converted once at load); matrices stay in their stored dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "model/model_config.h"

namespace eaq::model {

struct DecoderSpec {
  std::string architecture;
  std::int64_t n_layers = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t vocab_size = 0;
  std::int64_t context_length = 0;
  float rms_norm_eps = 1e-5f;
  float norm_weight_offset = 0.0f;  // 1 for HF gemma (GGUF gemma has the +1 folded in)
  float embedding_scale = 1.0f;     // sqrt(hidden) for gemma
  float attention_scale = 0.0f;     // multiplies q·k; 1/sqrt(head_dim) unless the model says
  float attn_logit_softcap = 0.0f;
  float final_logit_softcap = 0.0f;
  Activation activation = Activation::kSilu;
  kernels::RopeLayout rope_layout = kernels::RopeLayout::kNeox;
  // inv_freq per layer kind (scaling folded in), head_dim/2 entries each.
  std::vector<float> rope_inv_freq_global;
  std::vector<float> rope_inv_freq_sliding;  // gemma3's local base; empty = same as global
  float rope_attention_factor = 1.0f;
  std::int64_t sliding_window = 0;
  bool sandwich_norms = false;  // gemma3: post-attention and post-ffn norms before the residual add
  bool qk_norm = false;         // gemma3: RMSNorm of each q and k head
};

struct DecoderLayerWeights {
  bool is_sliding = false;
  const float* attn_norm = nullptr;
  kernels::WeightRef wq, wk, wv, wo;
  const float* bq = nullptr;  // qwen2 q/k/v biases (nullptr if none)
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;  // output-projection bias (HF llama attention_bias)
  const float* q_norm = nullptr;  // [head_dim] (gemma3)
  const float* k_norm = nullptr;
  const float* post_attn_norm = nullptr;  // gemma3
  const float* ffn_norm = nullptr;        // pre-FFN norm
  const float* post_ffn_norm = nullptr;   // gemma3
  kernels::WeightRef w_gate, w_up, w_down;
};

struct DecoderWeights {
  kernels::WeightRef token_embedding;  // [vocab][hidden]
  std::vector<DecoderLayerWeights> layers;
  const float* final_norm = nullptr;
  kernels::WeightRef output;  // [vocab][hidden]; the embedding when tied
};

}  // namespace eaq::model
