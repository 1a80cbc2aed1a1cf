// CudaDecoderLm, construction: weight upload (fusion of q|k|v and gate|up, dense half copies,
// packed GPU layouts), the KV cache and workspaces, release, the KV prefix copy. The forward
// pass, the captured decode step and the greedy loop are in cuda_decoder_lm_forward_cuda.cpp.
#include "model/cuda_decoder_lm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/env_mib.h"
#include "kernels/cuda/env_switch.h"

namespace eaq::model {

namespace kc = kernels::cuda;

namespace {

// The dtype a stored matrix is computed in on the GPU: its own where a kernel reads it, else f16
// (f32, formats without a GPU kernel, and packed rows whose length the GEMV cannot take — not a
// multiple of 8 — are converted once at upload; the description lists the dtypes in use).
DType gpu_dtype(DType stored, std::int64_t cols) {
  if (is_half(stored) || (kc::gemv_supports(stored) && cols % 8 == 0)) return stored;
  return DType::F16;
}

// Row r of a host weight as floats.
void dequantize_row(const kernels::WeightRef& w, std::int64_t r, float* out) {
  const auto* row = static_cast<const std::uint8_t*>(w.data) + static_cast<std::size_t>(r) * w.row_stride_bytes;
  if (w.dtype == DType::F32) {
    std::memcpy(out, row, static_cast<std::size_t>(w.cols) * sizeof(float));
  } else {
    dequantize(w.dtype, row, out, static_cast<std::size_t>(w.cols));
  }
}

}  // namespace

void* CudaDecoderLm::alloc(std::size_t bytes, const char* what) {
  void* p = kc::device_alloc(bytes, what);
  allocations_.push_back(p);
  return p;
}

float* CudaDecoderLm::upload_floats(const float* host, std::int64_t n, const char* what) {
  if (host == nullptr) return nullptr;
  auto* d = static_cast<float*>(alloc(static_cast<std::size_t>(n) * sizeof(float), what));
  EAQ_CUDA_CHECK(cudaMemcpy(d, host, static_cast<std::size_t>(n) * sizeof(float), cudaMemcpyHostToDevice));
  weight_device_bytes_ += static_cast<std::size_t>(n) * sizeof(float);
  return d;
}

CudaLinear CudaDecoderLm::upload_linear(std::span<const kernels::WeightRef> matrices, const char* what) {
  CudaLinear linear;
  linear.cols = matrices.front().cols;
  for (const auto& m : matrices) {
    if (m.cols != linear.cols) fail("{}: fused matrices disagree on their input width ({} vs {})", what, m.cols, linear.cols);
    linear.rows += m.rows;
  }
  // Consecutive matrices computed in the same dtype go up as one part (one GEMV per token).
  std::size_t i = 0;
  std::int64_t column = 0;
  while (i < matrices.size()) {
    const DType dtype = gpu_dtype(matrices[i].dtype, linear.cols);
    std::size_t j = i;
    std::int64_t rows = 0;
    while (j < matrices.size() && gpu_dtype(matrices[j].dtype, linear.cols) == dtype && matrices[j].dtype == matrices[i].dtype) {
      rows += matrices[j].rows;
      ++j;
    }
    CudaLinear::Part part;
    part.dtype = dtype;
    part.rows = rows;
    part.column = column;
    const std::int64_t cols = linear.cols;
    if (is_half(dtype)) {
      // Dense rows padded to 16 bytes: what cuBLAS and half_matvec read.
      part.dense_stride = (cols + 7) / 8 * 8;
      std::vector<std::uint16_t> host(static_cast<std::size_t>(rows * part.dense_stride), 0);
      std::vector<float> row_f32(static_cast<std::size_t>(cols));
      std::int64_t r_out = 0;
      for (std::size_t k = i; k < j; ++k) {
        const auto& m = matrices[k];
        for (std::int64_t r = 0; r < m.rows; ++r, ++r_out) {
          std::uint16_t* dst = host.data() + r_out * part.dense_stride;
          const auto* src = static_cast<const std::uint8_t*>(m.data) + static_cast<std::size_t>(r) * m.row_stride_bytes;
          if (m.dtype == dtype) {
            std::memcpy(dst, src, static_cast<std::size_t>(cols) * 2);
          } else {
            dequantize_row(m, r, row_f32.data());
            for (std::int64_t c = 0; c < cols; ++c) {
              dst[c] = dtype == DType::BF16 ? f32_to_bf16(row_f32[c]) : f32_to_f16(row_f32[c]);
            }
          }
        }
      }
      const std::size_t bytes = host.size() * sizeof(std::uint16_t);
      part.dense = alloc(bytes, what);
      EAQ_CUDA_CHECK(cudaMemcpy(part.dense, host.data(), bytes, cudaMemcpyHostToDevice));
      weight_device_bytes_ += bytes;
      part.decode_bytes = static_cast<std::size_t>(rows * cols) * 2;
      if (options_.half_gemv_from_kernels && cols % 8 == 0) {
        kernels::WeightRef ref = kernels::make_weight_ref(dtype, rows, cols, nullptr);
        ref.data = host.data();
        ref.row_stride_bytes = static_cast<std::size_t>(part.dense_stride) * 2;
        part.weight = kc::upload_weight(ref, stream_);
        weight_device_bytes_ += part.weight.device_bytes;
        part.decode_bytes = part.weight.device_bytes;
      }
    } else {
      // Packed rows of one dtype, concatenated on the host, then the kernels' own layout.
      const std::size_t row_bytes_packed = row_bytes(dtype, static_cast<std::size_t>(cols));
      std::vector<std::uint8_t> host(static_cast<std::size_t>(rows) * row_bytes_packed);
      std::int64_t r_out = 0;
      for (std::size_t k = i; k < j; ++k) {
        const auto& m = matrices[k];
        for (std::int64_t r = 0; r < m.rows; ++r, ++r_out) {
          std::memcpy(host.data() + static_cast<std::size_t>(r_out) * row_bytes_packed,
                      static_cast<const std::uint8_t*>(m.data) + static_cast<std::size_t>(r) * m.row_stride_bytes,
                      row_bytes_packed);
        }
      }
      kernels::WeightRef ref = kernels::make_weight_ref(dtype, rows, cols, host.data());
      part.weight = kc::upload_weight(ref, stream_);
      weight_device_bytes_ += part.weight.device_bytes;
      part.decode_bytes = part.weight.device_bytes;
      // A part that is the whole projection: what ran on a GPU (an output at a column offset of
      // wider rows is in the GEMM's test, not yet run there; mixed_input_gemm.h).
      if (mixed_prefill_ && kc::mixed_gemm_takes(dtype, rows, cols) && rows == linear.rows) {
        part.mixed = kc::upload_mixed_gemm_weight(ref);
        weight_device_bytes_ += part.mixed.device_bytes;
      }
    }
    linear.parts.push_back(std::move(part));
    column += rows;
    i = j;
  }
  return linear;
}

CudaDecoderLm::CudaDecoderLm(const DecoderSpec& spec, const DecoderWeights& weights, const CudaModelOptions& options)
    : spec_(spec), options_(options) {
  if (spec_.attention_scale == 0.0f) spec_.attention_scale = 1.0f / std::sqrt(static_cast<float>(spec_.head_dim));
  if (spec_.head_dim % 2 != 0 || spec_.head_dim > 256) {
    fail("the CUDA backend takes head_dim up to 256 and even; this model has {}", spec_.head_dim);
  }
  kc::attention_lane_dims(static_cast<int>(spec_.head_dim));
  if (options_.max_positions <= 0 || options_.n_slots <= 0) fail("the CUDA model needs a positive context and slot count");
  device_ = kc::select_cuda_device(options_.device_index);
  EAQ_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  try {
    // A workspace for cuBLASLt when EAQ_CUDA_CUBLAS_WORKSPACE_MIB asks; none by default (the
    // prefill GEMMs' algorithms do not split K: half_gemm.h).
    {
      const std::size_t bytes = kc::cublas_workspace_bytes_requested();
      gemm_ = std::make_unique<kc::HalfGemm>(stream_, bytes > 0 ? alloc(bytes, "the cuBLAS workspace") : nullptr, bytes);
    }
    const std::int64_t H = spec_.hidden_size, hd = spec_.head_dim, V = spec_.vocab_size;
    const std::int64_t qkv_width = (spec_.n_heads + 2 * spec_.n_kv_heads) * hd;
    const std::int64_t q_width = spec_.n_heads * hd, I = spec_.intermediate_size;

    // Embedding table: f16 when stored as f16, else f32 so the values stay those the CPU reads
    // (one row per token is read: the size does not matter for speed).
    {
      const auto& e = weights.token_embedding;
      embedding_dtype_ = e.dtype == DType::F16 ? DType::F16 : DType::F32;
      const std::size_t elem = embedding_dtype_ == DType::F16 ? 2 : 4;
      std::vector<std::uint8_t> host(static_cast<std::size_t>(e.rows * e.cols) * elem);
      std::vector<float> row(static_cast<std::size_t>(e.cols));
      for (std::int64_t r = 0; r < e.rows; ++r) {
        std::uint8_t* dst = host.data() + static_cast<std::size_t>(r * e.cols) * elem;
        if (e.dtype == DType::F16) {
          std::memcpy(dst, static_cast<const std::uint8_t*>(e.data) + r * e.row_stride_bytes, static_cast<std::size_t>(e.cols) * 2);
          continue;
        }
        dequantize_row(e, r, row.data());
        std::memcpy(dst, row.data(), static_cast<std::size_t>(e.cols) * 4);
      }
      embedding_ = alloc(host.size(), "the token embedding table");
      EAQ_CUDA_CHECK(cudaMemcpy(embedding_, host.data(), host.size(), cudaMemcpyHostToDevice));
      weight_device_bytes_ += host.size();
    }

    // The prefill of packed weights: CUTLASS's mixed-input GEMM where it takes the weight
    // (mixed_input_gemm.h; its own copy of the codes), else f16 slices + cuBLAS (below).
    // EAQ_CUDA_PACKED_PREFILL=dequant dequantizes every packed weight (A/B; mixed: the default).
    {
      const char* packed = std::getenv("EAQ_CUDA_PACKED_PREFILL");
      const std::string_view want = packed == nullptr ? "mixed" : packed;
      if (want != "mixed" && want != "dequant") {
        fail("EAQ_CUDA_PACKED_PREFILL='{}' is not a prefill for packed weights: give mixed (the default) or dequant", want);
      }
      const char* dequant = std::getenv("EAQ_CUDA_PREFILL_DEQUANT");
      mixed_prefill_ = want == "mixed" && options_.max_prefill_tokens > kc::kMaxGemvBatch &&
                       !options_.split_half_activations && (dequant == nullptr || std::string_view(dequant) != "0") &&
                       kc::mixed_gemm_available();
      if (mixed_prefill_) {
        // The second copy only where the GPU has room for it beside everything else: the
        // weights as their host bytes (about what the GPU layouts take), the KV cache, and 1 GiB
        // for workspaces and the libraries. Otherwise the prefill dequantizes, as a model that
        // fits without the copy must still load.
        std::size_t weights_bytes = 0, copies_bytes = 0;
        auto count = [&](const kernels::WeightRef& m) {
          weights_bytes += m.row_stride_bytes * static_cast<std::size_t>(m.rows);
          if (kc::mixed_gemm_takes(m.dtype, m.rows, m.cols)) copies_bytes += m.row_stride_bytes * static_cast<std::size_t>(m.rows);
        };
        for (const DecoderLayerWeights& w : weights.layers) {
          for (const kernels::WeightRef* m : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w_gate, &w.w_up, &w.w_down}) count(*m);
        }
        count(weights.output);
        const std::size_t kv = 2 * static_cast<std::size_t>(options_.max_positions * spec_.n_kv_heads * hd) * 2 *
                               static_cast<std::size_t>(spec_.n_layers * options_.n_slots);
        std::size_t free_bytes = 0, total_bytes = 0;
        EAQ_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
        mixed_prefill_ = weights_bytes + copies_bytes + kv + (std::size_t{1} << 30) <= free_bytes;
      }
    }
    layers_.resize(static_cast<std::size_t>(spec_.n_layers));
    std::vector<float> qkv_bias;
    for (std::int64_t l = 0; l < spec_.n_layers; ++l) {
      const DecoderLayerWeights& w = weights.layers[static_cast<std::size_t>(l)];
      Layer& L = layers_[static_cast<std::size_t>(l)];
      const kernels::WeightRef qkv[] = {w.wq, w.wk, w.wv};
      L.qkv = upload_linear(qkv, "a q|k|v projection");
      L.wo = upload_linear(std::span(&w.wo, 1), "an attention output projection");
      const kernels::WeightRef gate_up[] = {w.w_gate, w.w_up};
      L.gate_up = upload_linear(gate_up, "a gate|up projection");
      L.down = upload_linear(std::span(&w.w_down, 1), "a down projection");
      L.attn_norm = upload_floats(w.attn_norm, H, "a norm");
      L.ffn_norm = upload_floats(w.ffn_norm, H, "a norm");
      L.post_attn_norm = upload_floats(w.post_attn_norm, H, "a norm");
      L.post_ffn_norm = upload_floats(w.post_ffn_norm, H, "a norm");
      L.q_norm = spec_.qk_norm ? upload_floats(w.q_norm, hd, "a q norm") : nullptr;
      L.k_norm = spec_.qk_norm ? upload_floats(w.k_norm, hd, "a k norm") : nullptr;
      if (w.bq || w.bk || w.bv) {
        qkv_bias.assign(static_cast<std::size_t>(qkv_width), 0.0f);
        if (w.bq) std::copy(w.bq, w.bq + q_width, qkv_bias.begin());
        if (w.bk) std::copy(w.bk, w.bk + spec_.n_kv_heads * hd, qkv_bias.begin() + q_width);
        if (w.bv) std::copy(w.bv, w.bv + spec_.n_kv_heads * hd, qkv_bias.begin() + q_width + spec_.n_kv_heads * hd);
        L.qkv_bias = upload_floats(qkv_bias.data(), qkv_width, "q|k|v biases");
      }
      L.bo = upload_floats(w.bo, H, "an output bias");
      L.is_sliding = w.is_sliding;
    }
    final_norm_ = upload_floats(weights.final_norm, H, "the final norm");
    lm_head_ = upload_linear(std::span(&weights.output, 1), "the output projection");
    inv_freq_global_ = upload_floats(spec_.rope_inv_freq_global.data(), hd / 2, "RoPE frequencies");
    inv_freq_sliding_ = spec_.rope_inv_freq_sliding.empty()
                            ? inv_freq_global_
                            : upload_floats(spec_.rope_inv_freq_sliding.data(), hd / 2, "RoPE frequencies");

    // KV cache and workspaces.
    const std::size_t plane = static_cast<std::size_t>(options_.max_positions * spec_.n_kv_heads * hd) * 2;
    kv_bytes_ = 2 * plane * static_cast<std::size_t>(spec_.n_layers * options_.n_slots);
    k_base_ = alloc(kv_bytes_ / 2, "the KV cache (keys)");
    v_base_ = alloc(kv_bytes_ / 2, "the KV cache (values)");
    const std::int64_t T = options_.max_prefill_tokens;
    auto floats = [&](std::int64_t n, const char* what) {
      return static_cast<float*>(alloc(static_cast<std::size_t>(n) * sizeof(float), what));
    };
    x_ = floats(T * H, "workspaces");
    xn_ = floats(T * H, "workspaces");
    qkv_ = floats(T * qkv_width, "workspaces");
    q_ = floats(T * q_width, "workspaces");
    attn_ = floats(T * q_width, "workspaces");
    tmp_ = floats(T * H, "workspaces");
    gate_up_ = floats(T * 2 * I, "workspaces");
    act_ = floats(T * I, "workspaces");
    logits_ = floats(T * V, "the logits buffer");
    // Scratch for a part's GEMV output before it is placed among its siblings' columns.
    scratch_floats_ = kc::kMaxGemvBatch * std::max({qkv_width, 2 * I, V, H});
    scratch_ = floats(scratch_floats_, "workspaces");
    max_splits_ = kc::decode_max_splits(options_.max_positions);
    partial_ = floats(spec_.n_heads * max_splits_ * (hd + 2), "the attention split workspace");
    const char* fused = std::getenv("EAQ_CUDA_FUSED_ROPE");
    fused_decode_rope_ = fused == nullptr || std::string_view(fused) != "0";
    const char* fused_norm = std::getenv("EAQ_CUDA_FUSED_NORM");
    const std::string_view norm_choice = fused_norm == nullptr ? "kernel" : fused_norm;
    if (norm_choice != "kernel" && norm_choice != "gemv" && norm_choice != "0") {
      fail("EAQ_CUDA_FUSED_NORM='{}' is not kernel (the default), gemv or 0", norm_choice);
    }
    fused_decode_norms_ = norm_choice != "0" && !spec_.sandwich_norms;
    norm_in_gemv_ = norm_choice == "gemv";
    if (const char* steps = std::getenv("EAQ_CUDA_GRAPH_STEPS"); steps != nullptr && *steps != '\0') {
      char* end = nullptr;
      const long n = std::strtol(steps, &end, 10);
      if (*end != '\0' || n < 1 || n > 64) {
        fail("EAQ_CUDA_GRAPH_STEPS='{}' is not a step count from 1 to 64 (unset it for the default, 8)", steps);
      }
      graph_steps_ = static_cast<int>(n);
    }
    gated_gemv_ = kc::env_switch("EAQ_CUDA_GATED_GEMV", true, "1");
    for (const Layer& L : layers_) fused_decode_norms_ = fused_decode_norms_ && L.wo.parts.size() == 1 && L.down.parts.size() == 1;
    const char* half_inputs = std::getenv("EAQ_CUDA_PREFILL_HALF_INPUTS");
    producers_write_half_ = half_inputs == nullptr || std::string_view(half_inputs) != "0";
    residual_in_gemm_ = kc::env_switch("EAQ_CUDA_PREFILL_RESIDUAL_GEMM", true, "1");
    f16_gate_up_ = kc::env_switch("EAQ_CUDA_PREFILL_F16_GATE_UP", true, "1");
    prefill_graphs_enabled_ = kc::env_switch("EAQ_CUDA_PREFILL_GRAPH", true, "1");
    f16_qkv_ = kc::env_switch("EAQ_CUDA_PREFILL_F16_QKV", true, "1");
    split_counters_ = static_cast<unsigned*>(alloc(static_cast<std::size_t>(spec_.n_heads) * sizeof(unsigned), "the attention split workspace"));
    EAQ_CUDA_CHECK(cudaMemset(split_counters_, 0, static_cast<std::size_t>(spec_.n_heads) * sizeof(unsigned)));
    // Up to three 16-bit parts (hi, lo, lo2) of the widest GEMM input.
    x_half_ = alloc(static_cast<std::size_t>(3 * T * std::max({H, I, q_width})) * 2, "workspaces");
    // Prefill of packed weights: f16 slices of up to EAQ_CUDA_DEQUANT_SLICE_MIB (default 64) MiB,
    // the largest part's size when smaller. Measured on an H200 (bench_engine_cuda, 512-token
    // prompt, docs/cuda.md): Llama-2-7B int8 prefill 13047 tok/s with 16 MiB slices, 19060 with
    // 64, 20066 with 256 (fewer, wider GEMMs; the slice staying in L2 mattered less).
    // EAQ_CUDA_PREFILL_DEQUANT=0 runs them through the batched GEMV instead (A/B).
    const char* dequant = std::getenv("EAQ_CUDA_PREFILL_DEQUANT");
    if (T > kc::kMaxGemvBatch && (dequant == nullptr || std::string_view(dequant) != "0")) {
      std::int64_t largest = 0;
      auto visit = [&](const CudaLinear& lin) {
        for (const auto& p : lin.parts) {
          if (!is_half(p.dtype) && p.mixed.codes == nullptr) largest = std::max(largest, p.rows * ((lin.cols + 7) / 8 * 8));
        }
      };
      for (const auto& L : layers_) {
        for (const CudaLinear* lin : {&L.qkv, &L.wo, &L.gate_up, &L.down}) visit(*lin);
      }
      visit(lm_head_);
      if (largest > 0) {
        const std::int64_t slice_mib = kc::env_mib("EAQ_CUDA_DEQUANT_SLICE_MIB", 65536, "the default, 64").value_or(64);
        dequant_halves_ = std::min(largest, slice_mib << 19);  // MiB of f16 values
        dequant_ = alloc(static_cast<std::size_t>(dequant_halves_) * 2, "the prefill dequantization slice");
      }
    }
    ids_ = static_cast<std::int32_t*>(alloc(static_cast<std::size_t>(T) * 4, "workspaces"));
    positions_ = static_cast<std::int32_t*>(alloc(static_cast<std::size_t>(T) * 4, "workspaces"));
    auto* state = static_cast<std::int32_t*>(alloc(4 * sizeof(std::int32_t), "decode state"));
    token_ = state;
    position_ = state + 1;
    step_ = state + 2;
    out_tokens_ = static_cast<std::int32_t*>(alloc(static_cast<std::size_t>(options_.max_positions + 1) * 4, "decode state"));
    EAQ_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&host_staging_), static_cast<std::size_t>(2 * T + 8) * 4));
    if (const char* sampling = std::getenv("EAQ_CUDA_SAMPLING")) {
      const std::string_view where(sampling);
      if (where != "device" && where != "host") {
        fail("EAQ_CUDA_SAMPLING='{}' is not a place to sample: give device (the default) or host, or unset it", sampling);
      }
      device_sampling_ = where == "device";
    }
    sampled_ = state + 3;
    // The penalty window holds distinct ids of the history, which fits the context.
    penalized_capacity_ = std::min<std::int64_t>(V, options_.max_positions + 1);
    penalized_ = static_cast<std::int32_t*>(alloc(static_cast<std::size_t>(penalized_capacity_) * 4, "the sampling workspace"));
    sample_workspace_bytes_ = kc::sample_token_workspace_bytes(static_cast<int>(V));
    sample_workspace_ = alloc(sample_workspace_bytes_, "the sampling workspace");
    EAQ_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&sampling_staging_),
                                  static_cast<std::size_t>(penalized_capacity_ + 4) * 4));
    EAQ_CUDA_CHECK(cudaMemset(k_base_, 0, kv_bytes_ / 2));
    EAQ_CUDA_CHECK(cudaMemset(v_base_, 0, kv_bytes_ / 2));
    EAQ_CUDA_CHECK(cudaMemset(state, 0, 4 * sizeof(std::int32_t)));

    std::vector<std::string> dtypes;
    for (const auto& L : layers_) {
      for (const CudaLinear* lin : {&L.qkv, &L.wo, &L.gate_up, &L.down}) {
        for (const auto& p : lin->parts) {
          std::string n(dtype_name(p.dtype));
          if (std::find(dtypes.begin(), dtypes.end(), n) == dtypes.end()) dtypes.push_back(n);
        }
      }
    }
    std::string joined;
    for (const auto& d : dtypes) joined += (joined.empty() ? "" : "+") + d;
    bool any_mixed = false;
    for (const auto& L : layers_) {
      for (const CudaLinear* lin : {&L.qkv, &L.wo, &L.gate_up, &L.down}) {
        for (const auto& p : lin->parts) any_mixed = any_mixed || p.mixed.codes != nullptr;
      }
    }
    const std::string packed_prefill = any_mixed && dequant_ != nullptr ? "CUTLASS mixed-input GEMM, else f16 slices + cuBLAS"
                                       : any_mixed                       ? "CUTLASS mixed-input GEMM"
                                       : dequant_ != nullptr             ? "f16 slices + cuBLAS"
                                                                         : "batched GEMV";
    description_ = fmt::format("cuda:{} {} | weights {} ({} parts per q|k|v, {} per gate|up in layer 0) | head {} | "
                               "half GEMV: {} | prefill activations: {} | prefill of packed weights: {}",
                               device_.index, device_.name, joined, layers_.front().qkv.parts.size(),
                               layers_.front().gate_up.parts.size(), dtype_name(lm_head_.parts.front().dtype),
                               options_.half_gemv_from_kernels ? "kernels gemv()" : "engine half_matvec",
                               options_.split_half_activations ? "split hi+lo (bf16 +lo2)" : "16-bit",
                               packed_prefill);
  } catch (...) {
    release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

CudaDecoderLm::~CudaDecoderLm() { release(); }

void CudaDecoderLm::release() {
  if (decode_graph_) cudaGraphExecDestroy(decode_graph_);
  decode_graph_ = nullptr;
  if (decode_graph_steps_) cudaGraphExecDestroy(decode_graph_steps_);
  decode_graph_steps_ = nullptr;
  for (PrefillGraph& g : prefill_graphs_) {
    if (g.exec) cudaGraphExecDestroy(g.exec);
  }
  prefill_graphs_.clear();
  for (auto& L : layers_) {
    for (CudaLinear* lin : {&L.qkv, &L.wo, &L.gate_up, &L.down}) {
      for (auto& p : lin->parts) {
        kc::free_weight(p.weight);
        kc::free_mixed_gemm_weight(p.mixed);
      }
    }
  }
  layers_.clear();
  for (auto& p : lm_head_.parts) {
    kc::free_weight(p.weight);
    kc::free_mixed_gemm_weight(p.mixed);
  }
  lm_head_.parts.clear();
  gemm_.reset();  // before its workspace (one of allocations_) goes
  for (void* p : allocations_) kc::device_free(p);
  allocations_.clear();
  if (host_staging_) cudaFreeHost(host_staging_);
  host_staging_ = nullptr;
  if (sampling_staging_) cudaFreeHost(sampling_staging_);
  sampling_staging_ = nullptr;
  if (stream_) cudaStreamDestroy(stream_);
  stream_ = nullptr;
}

std::size_t CudaDecoderLm::decode_weight_bytes() const {
  std::size_t bytes = 0;
  for (const auto& L : layers_) {
    for (const CudaLinear* lin : {&L.qkv, &L.wo, &L.gate_up, &L.down}) {
      for (const auto& p : lin->parts) bytes += p.decode_bytes;
    }
  }
  for (const auto& p : lm_head_.parts) bytes += p.decode_bytes;
  return bytes;
}

void* CudaDecoderLm::k_cache(std::int64_t layer, std::int64_t slot) const {
  const std::size_t plane = static_cast<std::size_t>(options_.max_positions * spec_.n_kv_heads * spec_.head_dim) * 2;
  return static_cast<std::uint8_t*>(k_base_) + plane * static_cast<std::size_t>(layer * options_.n_slots + slot);
}

void* CudaDecoderLm::v_cache(std::int64_t layer, std::int64_t slot) const {
  const std::size_t plane = static_cast<std::size_t>(options_.max_positions * spec_.n_kv_heads * spec_.head_dim) * 2;
  return static_cast<std::uint8_t*>(v_base_) + plane * static_cast<std::size_t>(layer * options_.n_slots + slot);
}

void CudaDecoderLm::copy_kv_prefix(std::int64_t from_slot, std::int64_t to_slot, std::int64_t n_positions) {
  const std::size_t bytes = static_cast<std::size_t>(n_positions * spec_.n_kv_heads * spec_.head_dim) * 2;
  for (std::int64_t l = 0; l < spec_.n_layers; ++l) {
    EAQ_CUDA_CHECK(cudaMemcpyAsync(k_cache(l, to_slot), k_cache(l, from_slot), bytes, cudaMemcpyDeviceToDevice, stream_));
    EAQ_CUDA_CHECK(cudaMemcpyAsync(v_cache(l, to_slot), v_cache(l, from_slot), bytes, cudaMemcpyDeviceToDevice, stream_));
  }
}

}  // namespace eaq::model
