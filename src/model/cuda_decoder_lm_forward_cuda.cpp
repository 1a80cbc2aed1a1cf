// CudaDecoderLm, the forward pass: projections (cuBLAS or the GEMV), the layer loop on the GPU,
// the captured decode step and the device-side greedy loop. It mirrors DecoderLm::run_layer op for
// op (see there); what differs is fusion: q|k|v and gate|up are one projection when their dtypes
// agree, bias + q/k-norm + RoPE + KV write are one kernel, and each residual add is fused into the
// next norm. Construction and upload: cuda_decoder_lm_cuda.cpp.
#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "model/cuda_decoder_lm.h"

namespace eaq::model {

namespace kc = kernels::cuda;

std::optional<DType> CudaDecoderLm::gemm_input_dtype(const CudaLinear& linear, int n_tokens) const {
  if (!producers_write_half_ || n_tokens <= kc::kMaxGemvBatch || options_.split_half_activations) return std::nullopt;
  std::optional<DType> input;
  for (const auto& part : linear.parts) {
    DType d = part.dtype;
    if (!is_half(d)) {
      if (dequant_ == nullptr && part.mixed.codes == nullptr) return std::nullopt;  // a batched GEMV reads the f32 x
      d = DType::F16;
    }
    if (input && *input != d) return std::nullopt;
    input = d;
  }
  return input;
}

bool CudaDecoderLm::can_gate(const CudaLinear& linear, int n_tokens) const {
  if (linear.parts.size() != 1 || linear.rows % 2 != 0) return false;
  const CudaLinear::Part& part = linear.parts.front();
  if (is_half(part.dtype) && part.weight.codes == nullptr) return part.dense != nullptr;
  return kc::gemv_supports_gate(part.weight, n_tokens);
}

bool CudaDecoderLm::one_dense_half_part(const CudaLinear& linear) const {
  if (linear.parts.size() != 1) return false;
  const CudaLinear::Part& part = linear.parts.front();
  return is_half(part.dtype) && part.weight.codes == nullptr && part.dense != nullptr;
}

bool CudaDecoderLm::one_mixed_accumulating_part(const CudaLinear& linear) const {
  // int8's row scale goes on the GEMM's output, so only int4 parts can add into y.
  return linear.parts.size() == 1 && linear.parts.front().mixed.codes != nullptr &&
         linear.parts.front().mixed.dtype != DType::I8_CH;
}

bool CudaDecoderLm::prefill_adds_residual(const Layer& layer, const CudaLinear& linear, int n_tokens) const {
  // Sandwich norms normalize the projection's output before it joins the residual stream; a bias
  // would be added after the GEMM.
  return residual_in_gemm_ && n_tokens > kc::kMaxGemvBatch && !spec_.sandwich_norms &&
         (&linear != &layer.wo || layer.bo == nullptr) &&
         (one_dense_half_part(linear) || one_mixed_accumulating_part(linear));
}

bool CudaDecoderLm::prefill_f16_gate_up(const CudaLinear& gate_up, int n_tokens) const {
  return f16_gate_up_ && n_tokens > kc::kMaxGemvBatch && !options_.split_half_activations && one_dense_half_part(gate_up) &&
         gate_up.parts.front().dtype == DType::F16;
}

bool CudaDecoderLm::prefill_f16_qkv(const CudaLinear& qkv, int n_tokens) const {
  return f16_qkv_ && n_tokens > kc::kMaxGemvBatch && !options_.split_half_activations && one_dense_half_part(qkv) &&
         qkv.parts.front().dtype == DType::F16 && kc::rope_reads_f16_qkv(static_cast<int>(spec_.head_dim));
}

void CudaDecoderLm::run_linear(const CudaLinear& linear, const float* x, int n_tokens, float* y, bool x_half_ready,
                               const CudaLinearFusion& fusion) {
  const std::int64_t cols = linear.cols;
  const bool gated = fusion.gate != kc::Gate::kNone;
  const bool fused = fusion.norm_weight != nullptr || fusion.accumulate || fusion.bias != nullptr || gated;
  // A prefill GEMM adds into y itself (cuBLAS's or CUTLASS's beta = 1) where it is the whole
  // projection.
  const bool gemm_accumulate = fusion.accumulate && !gated && fusion.norm_weight == nullptr && fusion.bias == nullptr &&
                               n_tokens > kc::kMaxGemvBatch &&
                               (one_dense_half_part(linear) || one_mixed_accumulating_part(linear));
  if (fusion.f16_output) {
    EAQ_CHECK(!fused && n_tokens > kc::kMaxGemvBatch && one_dense_half_part(linear) && linear.parts.front().dtype == DType::F16,
              "an f16 output is a prefill GEMM's alone: one dense f16 part, more than {} tokens, no fusion",
              kc::kMaxGemvBatch);
    const CudaLinear::Part& part = linear.parts.front();
    if (!x_half_ready) kc::to_half(x, static_cast<std::int64_t>(n_tokens) * cols, x_half_, DType::F16, stream_);
    gemm_->run(DType::F16, part.dense, part.rows, cols, part.dense_stride, x_half_, n_tokens, y, linear.rows, false,
               DType::F16);
    return;
  }
  EAQ_CHECK(!fused || gemm_accumulate || n_tokens <= kc::kMaxGemvBatch,
            "a fused projection takes at most {} tokens (y += alone: a one-part f16/bf16 or mixed-GEMM int4 projection)", kc::kMaxGemvBatch);
  EAQ_CHECK(!(fusion.accumulate || fusion.bias) || linear.parts.size() == 1, "a fused epilogue needs a one-part projection");
  EAQ_CHECK(!gated || (can_gate(linear, n_tokens) && !fusion.accumulate && fusion.bias == nullptr),
            "the gated epilogue needs a one-part gate|up projection the GEMV can gate (can_gate), without bias or y +=");
  const float* norm_weight = fusion.norm_weight;
  if (norm_weight != nullptr) {
    // The GEMV folds the norm in only for dense half weights (and only with norm_in_gemv_);
    // otherwise the norm is a kernel of its own.
    const bool all_dense = std::all_of(linear.parts.begin(), linear.parts.end(), [](const CudaLinear::Part& part) {
      return is_half(part.dtype) && part.weight.codes == nullptr;
    });
    if (!all_dense || !norm_in_gemv_) {
      kc::add_rms_norm(const_cast<float*>(x), nullptr, norm_weight, spec_.norm_weight_offset, spec_.rms_norm_eps,
                       n_tokens, static_cast<int>(cols), xn_, nullptr, DType::F16, stream_);
      x = xn_;
      norm_weight = nullptr;
    }
  }
  // cuBLAS on 16-bit operands: x converted to `dtype` (hi, and lo when split; bf16 also lo2, as
  // bf16 hi + lo carry only 16 bits), W rows [0, rows) at w (row stride w_stride), output columns
  // from y_col on.
  auto gemm_16bit = [&](DType dtype, const void* w, std::int64_t rows, std::int64_t w_stride, float* y_col,
                        bool convert_x, bool accumulate) {
    convert_x = convert_x && !x_half_ready;
    const std::int64_t n = static_cast<std::int64_t>(n_tokens) * cols;
    void* lo = static_cast<std::uint16_t*>(x_half_) + n;
    void* lo2 = dtype == DType::BF16 ? static_cast<std::uint16_t*>(x_half_) + 2 * n : nullptr;
    if (convert_x && options_.split_half_activations) kc::to_half_split(x, n, x_half_, lo, dtype, stream_, lo2);
    if (convert_x && !options_.split_half_activations) kc::to_half(x, n, x_half_, dtype, stream_);
    gemm_->run(dtype, w, rows, cols, w_stride, x_half_, n_tokens, y_col, linear.rows, accumulate);
    if (options_.split_half_activations) {
      gemm_->run(dtype, w, rows, cols, w_stride, lo, n_tokens, y_col, linear.rows, true);
      if (lo2) gemm_->run(dtype, w, rows, cols, w_stride, lo2, n_tokens, y_col, linear.rows, true);
    }
  };
  for (const auto& part : linear.parts) {
    const bool alone = linear.parts.size() == 1;
    if (is_half(part.dtype) && n_tokens > kc::kMaxGemvBatch) {
      gemm_16bit(part.dtype, part.dense, part.rows, part.dense_stride, y + part.column, true, gemm_accumulate);
      continue;
    }
    if (!is_half(part.dtype) && n_tokens > kc::kMaxGemvBatch && part.mixed.codes != nullptr) {
      // Packed weights in a prefill, the codes read by the tensor-core GEMM itself.
      // x in f16 for this part (as the dequantizing path converts it for each part: another
      // part may have left it in bf16).
      if (!x_half_ready) kc::to_half(x, static_cast<std::int64_t>(n_tokens) * cols, x_half_, DType::F16, stream_);
      kc::mixed_gemm(part.mixed, x_half_, n_tokens, y + part.column, linear.rows, gemm_accumulate, stream_);
      continue;
    }
    if (!is_half(part.dtype) && n_tokens > kc::kMaxGemvBatch && dequant_ != nullptr) {
      // Packed weights in a prefill: a slice of rows at a time dequantized to f16, then cuBLAS on
      // the tensor cores.
      const std::int64_t stride = (cols + 7) / 8 * 8;
      const std::int64_t slice = std::max<std::int64_t>(1, dequant_halves_ / stride);
      // Per-channel int8 / fp8 codes are exact in f16: their row scale goes on the f32 output.
      const float* scales = kc::row_scales(part.weight);
      for (std::int64_t r0 = 0; r0 < part.rows; r0 += slice) {
        const std::int64_t n_rows = std::min(slice, part.rows - r0);
        kc::dequantize_rows_f16(part.weight, r0, n_rows, stride, scales == nullptr, dequant_, stream_);
        gemm_16bit(DType::F16, dequant_, n_rows, stride, y + part.column + r0, r0 == 0, false);
        if (scales) kc::scale_columns(y + part.column + r0, linear.rows, n_tokens, scales + r0, n_rows, stream_);
      }
      continue;
    }
    for (int b0 = 0; b0 < n_tokens; b0 += kc::kMaxGemvBatch) {
      const int nb = std::min(kc::kMaxGemvBatch, n_tokens - b0);
      // gemv writes [nb][part.rows] (gated: [nb][part.rows / 2]): straight into y when that is
      // y's layout, else via scratch.
      float* out = alone ? y + static_cast<std::int64_t>(b0) * (gated ? linear.rows / 2 : linear.rows) : scratch_;
      const float* xb = x + static_cast<std::int64_t>(b0) * cols;
      if (is_half(part.dtype) && part.weight.codes == nullptr) {
        kc::HalfMatvecFusion f;
        f.norm_weight = norm_weight;
        f.norm_offset = spec_.norm_weight_offset;
        f.norm_eps = spec_.rms_norm_eps;
        f.bias = fusion.bias;
        f.accumulate = fusion.accumulate;
        f.gate = fusion.gate;
        kc::half_matvec(part.dense, part.dtype, part.rows, cols, part.dense_stride, xb, nb, out, stream_, f);
      } else {
        kc::GemvEpilogue e;
        e.bias = fusion.bias;
        e.accumulate = fusion.accumulate;
        e.gate = fusion.gate;
        kc::gemv(part.weight, xb, nb, out, stream_, e);
      }
      if (!alone) {
        EAQ_CUDA_CHECK(cudaMemcpy2DAsync(y + static_cast<std::int64_t>(b0) * linear.rows + part.column,
                                         static_cast<std::size_t>(linear.rows) * sizeof(float), out,
                                         static_cast<std::size_t>(part.rows) * sizeof(float),
                                         static_cast<std::size_t>(part.rows) * sizeof(float),
                                         static_cast<std::size_t>(nb), cudaMemcpyDeviceToDevice, stream_));
      }
    }
  }
}

void CudaDecoderLm::run_layers(int T, const std::int32_t* positions, std::int64_t slot, bool final_norm) {
  const int H = static_cast<int>(spec_.hidden_size), hd = static_cast<int>(spec_.head_dim);
  const int I = static_cast<int>(spec_.intermediate_size);
  const float off = spec_.norm_weight_offset, eps = spec_.rms_norm_eps;
  const bool fused_norms = fused_decode_norms_ && T <= kc::kMaxGemvBatch;
  // Prefill: the o_proj and down GEMMs add into x_ themselves where they can (residual_in_gemm_);
  // `pending` is the projection output (tmp_) the next norm must still add, or null.
  const float* pending = nullptr;
  for (std::int64_t l = 0; l < spec_.n_layers; ++l) {
    const Layer& L = layers_[static_cast<std::size_t>(l)];
    // Decode (fused_norms): the o_proj and down GEMVs add into x_ themselves, so the norms read
    // x_ alone (in the GEMV with norm_in_gemv_). Otherwise the previous layer's FFN output (tmp_)
    // joins the residual stream inside this norm, and in a prefill each GEMM's 16-bit input is
    // written by the kernel that makes it (this norm, the attention, the activation).
    const std::optional<DType> qkv_in = gemm_input_dtype(L.qkv, T);
    const bool qkv_f16 = !fused_norms && prefill_f16_qkv(L.qkv, T);
    if (fused_norms) {
      run_linear(L.qkv, x_, T, qkv_, false, {.norm_weight = L.attn_norm});
    } else {
      // Where the GEMM reads the 16-bit copy, the f32 row is not written (nor read).
      kc::add_rms_norm(x_, pending, L.attn_norm, off, eps, T, H, qkv_in ? nullptr : xn_,
                       qkv_in ? x_half_ : nullptr, qkv_in.value_or(DType::F16), stream_);
      run_linear(L.qkv, xn_, T, qkv_, qkv_in.has_value(), {.f16_output = qkv_f16});
    }

    kc::RopeKvParams rope;
    rope.n_tokens = T;
    rope.n_heads = static_cast<int>(spec_.n_heads);
    rope.n_kv_heads = static_cast<int>(spec_.n_kv_heads);
    rope.head_dim = hd;
    rope.qkv = qkv_;
    rope.qkv_f16 = qkv_f16;
    rope.bias = L.qkv_bias;
    rope.q_norm = L.q_norm;
    rope.k_norm = L.k_norm;
    rope.norm_offset = off;
    rope.norm_eps = eps;
    rope.inv_freq = L.is_sliding ? inv_freq_sliding_ : inv_freq_global_;
    rope.neox = spec_.rope_layout == kernels::RopeLayout::kNeox;
    rope.attention_factor = spec_.rope_attention_factor;
    rope.positions = positions;
    rope.q_out = q_;
    rope.k_cache = k_cache(l, slot);
    rope.v_cache = v_cache(l, slot);
    // A decode step's attention kernel does this itself (attention_decode with `rope`). Measured
    // on an H100 (bench_engine_cuda, same call, docs/cuda.md) with the 16-byte-load attention
    // kernel: +2-3% tok/s after the packed int8/int4 GEMVs on the 1.3B and 7B shapes (with the
    // earlier lane-per-key kernel it was -11 to -18% there, on an H200), and after f16 as before.
    // EAQ_CUDA_FUSED_ROPE=0 turns it off (A/B).
    const bool fused_rope = T == 1 && fused_decode_rope_;
    if (!fused_rope) kc::rope_kv_write(rope, stream_);

    kc::AttentionCudaParams attn;
    attn.n_heads = rope.n_heads;
    attn.n_kv_heads = rope.n_kv_heads;
    attn.head_dim = hd;
    attn.scale = spec_.attention_scale;
    attn.sliding_window = L.is_sliding ? static_cast<int>(spec_.sliding_window) : 0;
    attn.logit_softcap = spec_.attn_logit_softcap;
    attn.k_cache = rope.k_cache;
    attn.v_cache = rope.v_cache;
    const std::optional<DType> wo_in = gemm_input_dtype(L.wo, T);
    if (T == 1) {
      kc::attention_decode(attn, fused_rope ? &rope : nullptr, fused_rope ? nullptr : q_, positions, max_splits_,
                           partial_, split_counters_, attn_, stream_);
    } else {
      // 16-bit attention products where the GEMMs take 16-bit activations too; the split mode
      // (EAQ_CUDA_PREFILL=split) keeps f32 accuracy.
      kc::attention_prefill(attn, q_, positions, T, attn_, wo_in ? x_half_ : nullptr, wo_in.value_or(DType::F16),
                            !options_.split_half_activations, stream_);
    }
    const std::optional<DType> gate_up_in = gemm_input_dtype(L.gate_up, T);
    const bool gate_up_f16 = !fused_norms && prefill_f16_gate_up(L.gate_up, T);
    // Decode: the gated activation in the gate|up GEMV's epilogue, straight into act_.
    const bool gated_gemv = fused_norms && gated_gemv_ && can_gate(L.gate_up, T);
    const kc::Gate gate = spec_.activation == Activation::kGeluTanh ? kc::Gate::kGeluTanh : kc::Gate::kSilu;
    if (fused_norms) {
      run_linear(L.wo, attn_, T, x_, false, {.accumulate = true, .bias = L.bo});
      if (gated_gemv) {
        run_linear(L.gate_up, x_, T, act_, false, {.norm_weight = L.ffn_norm, .gate = gate});
      } else {
        run_linear(L.gate_up, x_, T, gate_up_, false, {.norm_weight = L.ffn_norm});
      }
    } else {
      if (prefill_adds_residual(L, L.wo, T)) {
        run_linear(L.wo, attn_, T, x_, wo_in.has_value(), {.accumulate = true});
        pending = nullptr;
      } else {
        run_linear(L.wo, attn_, T, tmp_, wo_in.has_value());
        if (L.bo) kc::add_bias(tmp_, L.bo, T, H, stream_);
        if (spec_.sandwich_norms) kc::add_rms_norm(tmp_, nullptr, L.post_attn_norm, off, eps, T, H, tmp_, nullptr, DType::F16, stream_);
        pending = tmp_;
      }
      kc::add_rms_norm(x_, pending, L.ffn_norm, off, eps, T, H, gate_up_in ? nullptr : xn_, gate_up_in ? x_half_ : nullptr,
                       gate_up_in.value_or(DType::F16), stream_);
      run_linear(L.gate_up, xn_, T, gate_up_, gate_up_in.has_value(), {.f16_output = gate_up_f16});
    }
    const std::optional<DType> down_in = gemm_input_dtype(L.down, T);
    if (!gated_gemv) {
      if (gate_up_f16) {
        kc::gated_activation_f16_in(gate_up_, T, I, gate == kc::Gate::kGeluTanh, down_in ? nullptr : act_,
                                    down_in ? x_half_ : nullptr, down_in.value_or(DType::F16), stream_);
      } else {
        kc::gated_activation(gate_up_, T, I, gate == kc::Gate::kGeluTanh, down_in ? nullptr : act_,
                             down_in ? x_half_ : nullptr, down_in.value_or(DType::F16), stream_);
      }
    }
    if (fused_norms) {
      run_linear(L.down, act_, T, x_, false, {.accumulate = true});
    } else if (prefill_adds_residual(L, L.down, T)) {
      run_linear(L.down, act_, T, x_, down_in.has_value(), {.accumulate = true});
      pending = nullptr;
    } else {
      run_linear(L.down, act_, T, tmp_, down_in.has_value());
      if (spec_.sandwich_norms) kc::add_rms_norm(tmp_, nullptr, L.post_ffn_norm, off, eps, T, H, tmp_, nullptr, DType::F16, stream_);
      pending = tmp_;
    }
  }
  // With fused norms x_ already holds the whole residual stream.
  if (!final_norm && fused_norms) return;
  kc::add_rms_norm(x_, fused_norms ? nullptr : pending, final_norm_, off, eps, T, H, xn_, nullptr,
                   DType::F16, stream_);
}

void CudaDecoderLm::enqueue_decode_step() {
  kc::embedding_lookup(embedding_, embedding_dtype_, token_, 1, static_cast<int>(spec_.hidden_size), spec_.embedding_scale, x_, stream_);
  // With the norms in the GEMVs, the final norm is the LM head's (run_linear makes it a kernel
  // for packed heads).
  const bool head_norm = fused_decode_norms_ && norm_in_gemv_;
  run_layers(1, position_, 0, !head_norm);
  if (head_norm) {
    run_linear(lm_head_, x_, 1, logits_, false, {.norm_weight = final_norm_});
  } else {
    run_linear(lm_head_, xn_, 1, logits_);
  }
  if (spec_.final_logit_softcap > 0.0f) kc::softcap(logits_, spec_.vocab_size, spec_.final_logit_softcap, stream_);
  kc::argmax_next_token(logits_, static_cast<int>(spec_.vocab_size), token_, out_tokens_, step_, position_, stream_);
}

void CudaDecoderLm::ensure_decode_graph(int steps) {
  cudaGraphExec_t& exec = steps == 1 ? decode_graph_ : decode_graph_steps_;
  if (exec) return;
  cudaGraph_t graph = nullptr;
  EAQ_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  try {
    for (int i = 0; i < steps; ++i) enqueue_decode_step();
  } catch (...) {
    cudaStreamEndCapture(stream_, &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  EAQ_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
  cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  EAQ_CUDA_CHECK(status);
}

void CudaDecoderLm::prefill_piece(std::span<const std::int32_t> tokens, std::int64_t first_position, std::int64_t slot) {
  const int T = static_cast<int>(tokens.size());
  for (int i = 0; i < T; ++i) {
    host_staging_[i] = tokens[static_cast<std::size_t>(i)];
    host_staging_[options_.max_prefill_tokens + i] = static_cast<std::int32_t>(first_position + i);
  }
  EAQ_CUDA_CHECK(cudaMemcpyAsync(ids_, host_staging_, static_cast<std::size_t>(T) * 4, cudaMemcpyHostToDevice, stream_));
  EAQ_CUDA_CHECK(cudaMemcpyAsync(positions_, host_staging_ + options_.max_prefill_tokens, static_cast<std::size_t>(T) * 4,
                                 cudaMemcpyHostToDevice, stream_));
  auto enqueue = [&] {
    kc::embedding_lookup(embedding_, embedding_dtype_, ids_, T, static_cast<int>(spec_.hidden_size),
                         spec_.embedding_scale, x_, stream_);
    run_layers(T, positions_, slot);
  };
  if (!prefill_graphs_enabled_) {
    enqueue();
    return;
  }
  PrefillGraph& g = prefill_graph(T, slot);
  g.last_use = ++prefill_graph_clock_;
  if (g.exec == nullptr && g.runs++ == 0) {
    enqueue();
    return;
  }
  if (g.exec == nullptr) {
    cudaGraph_t graph = nullptr;
    EAQ_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue();
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    EAQ_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    const cudaError_t status = cudaGraphInstantiate(&g.exec, graph, 0);
    cudaGraphDestroy(graph);
    EAQ_CUDA_CHECK(status);
  }
  EAQ_CUDA_CHECK(cudaGraphLaunch(g.exec, stream_));
}

CudaDecoderLm::PrefillGraph& CudaDecoderLm::prefill_graph(int tokens, std::int64_t slot) {
  for (PrefillGraph& g : prefill_graphs_) {
    if (g.tokens == tokens && g.slot == slot) return g;
  }
  if (prefill_graphs_.size() < kPrefillGraphs) {
    prefill_graphs_.push_back(PrefillGraph{tokens, slot});
    return prefill_graphs_.back();
  }
  PrefillGraph& oldest = *std::min_element(prefill_graphs_.begin(), prefill_graphs_.end(),
                                           [](const PrefillGraph& a, const PrefillGraph& b) { return a.last_use < b.last_use; });
  // Its graph may still be running: the stream is ordered, and destroying an executable graph
  // that was launched is allowed (CUDA frees it when its work is done).
  if (oldest.exec) EAQ_CUDA_CHECK(cudaGraphExecDestroy(oldest.exec));
  oldest = PrefillGraph{tokens, slot};
  return oldest;
}

void CudaDecoderLm::forward(std::span<const TokenChunk> chunks, KvStore& kv, LogitsRows rows, float* logits) {
  const std::int64_t H = spec_.hidden_size, V = spec_.vocab_size;
  for (const auto& c : chunks) {
    if (c.tokens.empty()) fail("an empty token chunk was passed to the model");
    const std::int64_t end = c.first_position + static_cast<std::int64_t>(c.tokens.size());
    if (c.first_position < 0 || end > kv.max_positions() || end > options_.max_positions) {
      fail("tokens at positions [{}, {}) do not fit the GPU KV cache of {} positions", c.first_position, end,
           std::min(kv.max_positions(), options_.max_positions));
    }
    if (c.slot < 0 || c.slot >= options_.n_slots) {
      fail("sequence slot {} is outside the GPU KV cache's {} slots", c.slot, options_.n_slots);
    }
    for (std::int32_t id : c.tokens) {
      if (id < 0 || id >= V) fail("token id {} is outside the model's vocabulary of {} tokens", id, V);
    }
  }
  std::int64_t out_row = 0;
  for (const auto& c : chunks) {
    const auto n = static_cast<std::int64_t>(c.tokens.size());
    if (n == 1 && c.slot == 0) {
      // The captured step reads its token and position from the device.
      ensure_decode_graph();
      host_staging_[0] = c.tokens[0];
      host_staging_[1] = static_cast<std::int32_t>(c.first_position);
      host_staging_[2] = 0;
      EAQ_CUDA_CHECK(cudaMemcpyAsync(token_, host_staging_, 3 * sizeof(std::int32_t), cudaMemcpyHostToDevice, stream_));
      EAQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
      EAQ_CUDA_CHECK(cudaMemcpyAsync(logits + out_row * V, logits_, static_cast<std::size_t>(V) * sizeof(float),
                                     cudaMemcpyDeviceToHost, stream_));
      EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
      ++out_row;
      continue;
    }
    for (std::int64_t begin = 0; begin < n; begin += options_.max_prefill_tokens) {
      const std::int64_t piece = std::min<std::int64_t>(options_.max_prefill_tokens, n - begin);
      prefill_piece(c.tokens.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(piece)),
                    c.first_position + begin, c.slot);
      const bool last_piece = begin + piece == n;
      if (rows == LogitsRows::kAll) {
        run_linear(lm_head_, xn_, static_cast<int>(piece), logits_);
        if (spec_.final_logit_softcap > 0.0f) kc::softcap(logits_, piece * V, spec_.final_logit_softcap, stream_);
        EAQ_CUDA_CHECK(cudaMemcpyAsync(logits + out_row * V, logits_, static_cast<std::size_t>(piece * V) * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream_));
        out_row += piece;
      } else if (last_piece) {
        run_linear(lm_head_, xn_ + (piece - 1) * H, 1, logits_);
        if (spec_.final_logit_softcap > 0.0f) kc::softcap(logits_, V, spec_.final_logit_softcap, stream_);
        EAQ_CUDA_CHECK(cudaMemcpyAsync(logits + out_row * V, logits_, static_cast<std::size_t>(V) * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream_));
        out_row += 1;
      }
      EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the staging buffer is reused by the next piece
    }
  }
}

std::int32_t CudaDecoderLm::forward_and_sample(std::int32_t token, std::int64_t position, KvStore& kv,
                                               const kernels::TokenSampling& sampling,
                                               std::span<const std::int32_t> penalized, double uniform) {
  const std::int64_t V = spec_.vocab_size;
  if (position < 0 || position + 1 > std::min(kv.max_positions(), options_.max_positions)) {
    fail("a token at position {} does not fit the GPU KV cache of {} positions", position,
         std::min(kv.max_positions(), options_.max_positions));
  }
  if (token < 0 || token >= V) fail("token id {} is outside the model's vocabulary of {} tokens", token, V);
  const bool penalize = sampling.repetition_penalty != 1.0f && !penalized.empty();
  if (penalize && static_cast<std::int64_t>(penalized.size()) > penalized_capacity_) {
    fail("{} distinct ids to penalize exceed the {} the GPU sampler holds (the context's length)", penalized.size(),
         penalized_capacity_);
  }
  for (std::int32_t id : penalized) {
    if (id < 0 || id >= V) fail("penalized token id {} is outside the model's vocabulary of {} tokens", id, V);
  }
  ensure_decode_graph();
  // The captured step reads its token and position from the device (as in forward()).
  std::int32_t* staging = sampling_staging_;
  staging[0] = token;
  staging[1] = static_cast<std::int32_t>(position);
  staging[2] = 0;
  EAQ_CUDA_CHECK(cudaMemcpyAsync(token_, staging, 3 * sizeof(std::int32_t), cudaMemcpyHostToDevice, stream_));
  if (penalize) {
    std::copy(penalized.begin(), penalized.end(), staging + 4);
    EAQ_CUDA_CHECK(cudaMemcpyAsync(penalized_, staging + 4, penalized.size() * sizeof(std::int32_t),
                                   cudaMemcpyHostToDevice, stream_));
  }
  EAQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
  // The graph ends with the greedy pick in token_; anything else samples its logits.
  const std::int32_t* picked = token_;
  if (!sampling.is_greedy() || penalize) {
    kc::sample_token(logits_, static_cast<int>(V), sampling, penalized_, penalize ? static_cast<int>(penalized.size()) : 0,
                     uniform, sample_workspace_, sample_workspace_bytes_, sampled_, stream_);
    picked = sampled_;
  }
  EAQ_CUDA_CHECK(cudaMemcpyAsync(staging + 3, picked, sizeof(std::int32_t), cudaMemcpyDeviceToHost, stream_));
  EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return staging[3];
}

void CudaDecoderLm::begin_greedy(std::span<const std::int32_t> prompt) {
  const auto n = static_cast<std::int64_t>(prompt.size());
  if (n == 0) fail("greedy generation needs a non-empty prompt");
  if (n >= options_.max_positions) fail("a prompt of {} tokens leaves no room in a context of {}", n, options_.max_positions);
  for (std::int32_t id : prompt) {
    if (id < 0 || id >= spec_.vocab_size) fail("token id {} is outside the model's vocabulary of {} tokens", id, spec_.vocab_size);
  }
  EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // earlier copies may still read the staging buffer
  ensure_decode_graph();
  for (std::int64_t begin = 0; begin < n; begin += options_.max_prefill_tokens) {
    const std::int64_t piece = std::min<std::int64_t>(options_.max_prefill_tokens, n - begin);
    prefill_piece(prompt.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(piece)), begin, 0);
    if (begin + piece < n) EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // staging reuse
    else {
      run_linear(lm_head_, xn_ + (piece - 1) * spec_.hidden_size, 1, logits_);
      if (spec_.final_logit_softcap > 0.0f) kc::softcap(logits_, spec_.vocab_size, spec_.final_logit_softcap, stream_);
    }
  }
  // argmax increments position to n (where the picked token will go) and step to 1.
  host_staging_[2 * options_.max_prefill_tokens] = static_cast<std::int32_t>(n - 1);
  host_staging_[2 * options_.max_prefill_tokens + 1] = 0;
  EAQ_CUDA_CHECK(cudaMemcpyAsync(position_, host_staging_ + 2 * options_.max_prefill_tokens, 2 * sizeof(std::int32_t),
                                 cudaMemcpyHostToDevice, stream_));
  kc::argmax_next_token(logits_, static_cast<int>(spec_.vocab_size), token_, out_tokens_, step_, position_, stream_);
  greedy_position_ = n;
}

void CudaDecoderLm::continue_greedy(int n_steps) {
  if (greedy_position_ + n_steps > options_.max_positions) {
    fail("{} more greedy steps after position {} do not fit the context of {}", n_steps, greedy_position_,
         options_.max_positions);
  }
  int single = n_steps;
  if (graph_steps_ > 1 && n_steps >= graph_steps_) {
    ensure_decode_graph(graph_steps_);
    for (; single >= graph_steps_; single -= graph_steps_) {
      EAQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_steps_, stream_));
    }
  }
  ensure_decode_graph();
  for (int i = 0; i < single; ++i) EAQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
  greedy_position_ += n_steps;
}

void CudaDecoderLm::rewind_greedy(std::int64_t position, std::int32_t token) {
  if (position < 1 || position >= options_.max_positions) fail("cannot rewind the greedy loop to position {}", position);
  EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the staging words may still be in flight
  const int base = 2 * options_.max_prefill_tokens + 4;
  host_staging_[base] = token;
  host_staging_[base + 1] = static_cast<std::int32_t>(position);
  host_staging_[base + 2] = 0;
  EAQ_CUDA_CHECK(cudaMemcpyAsync(token_, host_staging_ + base, 3 * sizeof(std::int32_t), cudaMemcpyHostToDevice, stream_));
  greedy_position_ = position;
}

std::vector<std::int32_t> CudaDecoderLm::greedy_tokens(int n) {
  EAQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::vector<std::int32_t> out(static_cast<std::size_t>(std::max(n, 0)));
  if (n > 0) EAQ_CUDA_CHECK(cudaMemcpy(out.data(), out_tokens_, out.size() * 4, cudaMemcpyDeviceToHost));
  return out;
}

}  // namespace eaq::model
