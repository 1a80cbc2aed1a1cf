// Causal attention for a chunk of query tokens (prefill). The tensor-core kernel
// (attention_prefill_tc.cu) runs it; this file's kernel is the fallback where that one's shared
// memory does not fit (head_dim 256 on a 99 KiB device) and the A/B baseline
// (EAQ_CUDA_TC_ATTENTION=0): one warp per query, four queries of one head per block so their key
// tiles are shared through L1; keys in tiles of 32 with an online softmax — no n x n score
// matrix. Queries see the cache up to their own position (and within the sliding window).
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/attention_prefill_tc.h"
#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"

namespace eaq::kernels::cuda {

namespace {

constexpr int kQueriesPerBlock = 4;
constexpr int kMaxHeadDim = 256;

template <int kDims, int kHeadDim>
__global__ void attention_prefill_kernel(AttentionCudaParams p, const float* q, const std::int32_t* positions,
                                         int n_tokens, float* out, void* out_half, bool is_bf16) {
  __shared__ float q_shared[kQueriesPerBlock][kMaxHeadDim];
  const int head = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int t = blockIdx.y * kQueriesPerBlock + warp;
  if (t >= n_tokens) return;  // whole warp leaves; no block-wide barrier follows
  const int hd = p.head_dim;
  float* qs = q_shared[warp];
  const long long q_offset = (static_cast<long long>(t) * p.n_heads + head) * hd;
  for (int i = lane; i < hd; i += 32) qs[i] = q[q_offset + i] * p.scale;
  __syncwarp();
  const int position = positions[t];
  const int start = p.sliding_window > 0 ? max(0, position - p.sliding_window + 1) : 0;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const long long stride = static_cast<long long>(p.n_kv_heads) * hd;
  const __half* k_rows = static_cast<const __half*>(p.k_cache) + static_cast<long long>(kv_head) * hd;
  const __half* v_rows = static_cast<const __half*>(p.v_cache) + static_cast<long long>(kv_head) * hd;
  OnlineSoftmaxState<kDims> st;
  for (int first = start; first <= position; first += 32) {
    attend_tile<kDims, kHeadDim>(qs, k_rows, v_rows, stride, hd, first, min(first + 32, position + 1), p.logit_softcap, st);
  }
  const float inv_l = 1.0f / st.l;
#pragma unroll
  for (int i = 0; i < kDims; ++i) {
    const int d = lane * kDims + i;
    if (d < hd) {
      const float v = st.acc[i] * inv_l;
      out[q_offset + d] = v;
      if (out_half) store_half(out_half, q_offset + d, v, is_bf16);
    }
  }
}

}  // namespace

void attention_prefill(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                       int n_tokens, float* out, void* out_half, DType half_dtype, bool f16_products,
                       cudaStream_t stream) {
  if (n_tokens <= 0) return;
  if (f16_products && attention_prefill_f16(params, q, positions, n_tokens, out, out_half, half_dtype, stream)) return;
  static const bool tensor_cores = [] {
    const char* v = std::getenv("EAQ_CUDA_TC_ATTENTION");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  if (tensor_cores && attention_prefill_tc(params, q, positions, n_tokens, out, out_half, half_dtype, stream)) return;
  attention_prefill_warp(params, q, positions, n_tokens, out, out_half, half_dtype, stream);
}

void attention_prefill_warp(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                            int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream) {
  if (n_tokens <= 0) return;
  const dim3 grid(params.n_heads, (n_tokens + kQueriesPerBlock - 1) / kQueriesPerBlock);
  const int threads = 32 * kQueriesPerBlock;
  const bool bf16 = half_dtype == DType::BF16;
  const int hd = params.head_dim;
#define EAQ_PREFILL_LAUNCH(D, HD) \
  attention_prefill_kernel<D, HD><<<grid, threads, 0, stream>>>(params, q, positions, n_tokens, out, out_half, bf16)
  if (hd == 128) EAQ_PREFILL_LAUNCH(4, 128);
  else if (hd == 64) EAQ_PREFILL_LAUNCH(2, 64);
  else if (hd == 256) EAQ_PREFILL_LAUNCH(8, 256);
  else {
    switch (attention_lane_dims(hd)) {
      case 1: EAQ_PREFILL_LAUNCH(1, 0); break;
      case 2: EAQ_PREFILL_LAUNCH(2, 0); break;
      case 4: EAQ_PREFILL_LAUNCH(4, 0); break;
      default: EAQ_PREFILL_LAUNCH(8, 0); break;
    }
  }
#undef EAQ_PREFILL_LAUNCH
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
