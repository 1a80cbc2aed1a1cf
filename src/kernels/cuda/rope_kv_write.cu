// After the fused QKV projection: bias, per-head q/k RMSNorm (gemma3), RoPE on q and k, and the
// write of k and v into the f16 KV cache at each token's position — one kernel: a warp a head
// where the heads have norms, else a thread a rotation pair.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/qkv_head.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kMaxHeadDim = 256;
constexpr int kWarps = 8;

__global__ void rope_kv_write_kernel(RopeKvParams p) {
  __shared__ float head_buffer[kWarps][kMaxHeadDim];
  pdl_launch_dependents();
  pdl_wait();
  const int t = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int hd = p.head_dim;
  const int n_all = p.n_heads + 2 * p.n_kv_heads;
  const int position = p.positions[t];
  float* buf = head_buffer[warp];
  // blockIdx.y picks a group of kWarps heads: a decode step (one token) still spreads its
  // q, k and v heads over several SMs.
  for (int h = blockIdx.y * kWarps + warp; h < n_all; h += kWarps * gridDim.y) {
    const bool is_q = h < p.n_heads, is_k = !is_q && h < p.n_heads + p.n_kv_heads;
    prepare_qkv_head(p, t, h, position, buf);
    if (is_q) {
      float* dst = p.q_out + (static_cast<long long>(t) * p.n_heads + h) * hd;
      for (int i = lane; i < hd; i += 32) dst[i] = buf[i];
    } else {
      const int kv_head = is_k ? h - p.n_heads : h - p.n_heads - p.n_kv_heads;
      __half* cache = static_cast<__half*>(is_k ? p.k_cache : p.v_cache);
      __half* dst = cache + (static_cast<long long>(position) * p.n_kv_heads + kv_head) * hd;
      for (int i = lane; i < hd; i += 32) dst[i] = __float2half(buf[i]);
    }
    __syncwarp();
  }
}

// Without per-head norms (q_norm and k_norm null): one thread a (token, rotation pair i, group of
// kPairHeads heads), its cos and sin computed once for the group, each head's pair i read, rotated
// (q, k) or copied (v) and written: independent threads with their loads in flight, where the warp
// a head above spent a 7B prefill layer's 21-24 us (H100 trace, 2026-12-06) on short dependent
// chains. The same arithmetic as prepare_qkv_head, so the same bits.
constexpr int kPairThreads = 256;
constexpr int kPairHeads = 8;

__global__ void rope_kv_write_pairs_kernel(RopeKvParams p) {
  pdl_launch_dependents();
  pdl_wait();
  const int hd = p.head_dim, half = hd / 2;
  const long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= static_cast<long long>(p.n_tokens) * half) return;
  const int t = static_cast<int>(idx / half), i = static_cast<int>(idx - static_cast<long long>(t) * half);
  const int position = p.positions[t];
  const int n_rotated = p.n_heads + p.n_kv_heads, n_all = n_rotated + p.n_kv_heads;
  const int h_begin = blockIdx.y * kPairHeads, h_end = min(h_begin + kPairHeads, n_all);
  float cos_v = 1.0f, sin_v = 0.0f;
  if (h_begin < n_rotated) {
    float s = 0.0f, c = 0.0f;
    sincosf(static_cast<float>(position) * p.inv_freq[i], &s, &c);
    cos_v = c * p.attention_factor;
    sin_v = s * p.attention_factor;
  }
  const int i0 = p.neox ? i : 2 * i, i1 = p.neox ? i + half : 2 * i + 1;
  const float* src = p.qkv + static_cast<long long>(t) * n_all * hd;
#pragma unroll 4
  for (int h = h_begin; h < h_end; ++h) {
    float x0 = src[h * hd + i0], x1 = src[h * hd + i1];
    if (p.bias) {
      x0 += p.bias[h * hd + i0];
      x1 += p.bias[h * hd + i1];
    }
    if (h < n_rotated) {
      const float y0 = x0 * cos_v - x1 * sin_v, y1 = x1 * cos_v + x0 * sin_v;
      x0 = y0;
      x1 = y1;
    }
    if (h < p.n_heads) {
      float* dst = p.q_out + (static_cast<long long>(t) * p.n_heads + h) * hd;
      dst[i0] = x0;
      dst[i1] = x1;
    } else {
      const bool is_k = h < n_rotated;
      const int kv_head = is_k ? h - p.n_heads : h - n_rotated;
      __half* dst = static_cast<__half*>(is_k ? p.k_cache : p.v_cache) +
                    (static_cast<long long>(position) * p.n_kv_heads + kv_head) * hd;
      dst[i0] = __float2half(x0);
      dst[i1] = __float2half(x1);
    }
  }
}

}  // namespace

void rope_kv_write(const RopeKvParams& params, cudaStream_t stream) {
  EAQ_CHECK(params.head_dim % 2 == 0 && params.head_dim <= kMaxHeadDim, "head_dim {} unsupported on CUDA",
            params.head_dim);
  if (params.n_tokens <= 0) return;
  const int n_all = params.n_heads + 2 * params.n_kv_heads;
  if (params.q_norm == nullptr && params.k_norm == nullptr) {
    const long long threads = static_cast<long long>(params.n_tokens) * (params.head_dim / 2);
    const dim3 pair_grid(static_cast<unsigned>((threads + kPairThreads - 1) / kPairThreads),
                         (n_all + kPairHeads - 1) / kPairHeads);
    EAQ_CUDA_CHECK(launch_pdl(rope_kv_write_pairs_kernel, pair_grid, kPairThreads, 0, stream, params));
    return;
  }
  const dim3 grid(params.n_tokens, (n_all + kWarps - 1) / kWarps);
  EAQ_CUDA_CHECK(launch_pdl(rope_kv_write_kernel, grid, kWarps * 32, 0, stream, params));
}

}  // namespace eaq::kernels::cuda
