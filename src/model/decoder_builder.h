// build_decoder_lm: turns a ModelConfig plus its canonical tensors into a runnable DecoderLm —
// every architecture quirk comes from the config (data), none from the tensor names or counts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "model/decoder_lm.h"
#include "model/model_config.h"
#include "model/weight_arena.h"

namespace eaq::model {

struct TensorView {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;  // outermost first
  const void* data = nullptr;
};

// Canonical tensor names (GGUF's): token_embd.weight, output_norm.weight, output.weight,
// rope_freqs.weight, blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm,
// attn_k_norm, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm}.weight
// and blk.N.attn_{q,k,v,output}.bias. Returns nullptr when absent.
using TensorLookup = std::function<const TensorView*(std::string_view canonical_name)>;

struct EngineOptions {
  int n_threads = 1;
  // Weights whose stored dtype is not this are converted at load. nullopt = keep f32/f16/bf16
  // matrices as stored and convert other (quantized) ones to f32.
  std::optional<DType> weight_dtype;
  // Per-matrix choice (a precision plan), used instead of weight_dtype when set: canonical name,
  // stored dtype and row length → the dtype to compute with. Targets other than f32/f16/bf16 are
  // produced by quantize_row (quant::quantize_row; model sits below quant).
  std::function<DType(std::string_view name, DType stored, std::int64_t cols)> matrix_dtype;
  QuantizeRowFn quantize_row = nullptr;
};

std::unique_ptr<DecoderLm> build_decoder_lm(const ModelConfig& config, const TensorLookup& tensors,
                                            std::shared_ptr<const void> keep_alive,
                                            const EngineOptions& options);

}  // namespace eaq::model
