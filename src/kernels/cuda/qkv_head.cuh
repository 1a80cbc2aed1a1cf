// One head of a token's fused QKV projection made ready for attention, by one warp: bias, the
// per-head RMSNorm of q and k (gemma3), and RoPE of q and k at the token's position. Shared by
// rope_kv_write (any number of tokens) and the decode attention kernel, which prepares its own
// query head and the new token's key and value itself.
#pragma once

#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

// Head h (q heads first, then k, then v) of token t into buf[0, head_dim) (f32, shared memory).
// Every lane of the warp calls it; buf is complete for the whole warp on return.
__device__ __forceinline__ void prepare_qkv_head(const RopeKvParams& p, int t, int h, int position, float* buf) {
  const int lane = threadIdx.x & 31;
  const int hd = p.head_dim, half = hd / 2;
  const long long row_width = static_cast<long long>(p.n_heads + 2 * p.n_kv_heads) * hd;
  const float* src = p.qkv + t * row_width + static_cast<long long>(h) * hd;
  const float* bias = p.bias ? p.bias + static_cast<long long>(h) * hd : nullptr;
  const bool is_q = h < p.n_heads, is_k = !is_q && h < p.n_heads + p.n_kv_heads;
  float sum_sq = 0.0f;
  for (int i = lane; i < hd; i += 32) {
    const float v = src[i] + (bias ? bias[i] : 0.0f);
    buf[i] = v;
    sum_sq += v * v;
  }
  const float* norm = is_q ? p.q_norm : (is_k ? p.k_norm : nullptr);
  if (norm) {
    const float inv_rms = rsqrtf(warp_sum(sum_sq) / static_cast<float>(hd) + p.norm_eps);
    for (int i = lane; i < hd; i += 32) buf[i] = buf[i] * inv_rms * (norm[i] + p.norm_offset);
  }
  __syncwarp();
  if (is_q || is_k) {
    // Each lane rotates pairs i = lane, lane + 32, ...; reads and writes touch only its pairs.
    for (int i = lane; i < half; i += 32) {
      // The CPU rounds cos/sin of the same f32 angle from double; sincosf (not the fast
      // intrinsic) is within 2 ulp of that.
      const float angle = static_cast<float>(position) * p.inv_freq[i];
      float s = 0.0f, c = 0.0f;
      sincosf(angle, &s, &c);
      const float cos_v = c * p.attention_factor;
      const float sin_v = s * p.attention_factor;
      const int i0 = p.neox ? i : 2 * i, i1 = p.neox ? i + half : 2 * i + 1;
      const float x0 = buf[i0], x1 = buf[i1];
      buf[i0] = x0 * cos_v - x1 * sin_v;
      buf[i1] = x1 * cos_v + x0 * sin_v;
    }
    __syncwarp();
  }
}

}  // namespace eaq::kernels::cuda
