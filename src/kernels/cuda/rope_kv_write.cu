// After the fused QKV projection: bias, per-head q/k RMSNorm (gemma3), RoPE on q and k, and the
// write of k and v into the f16 KV cache at each token's position — one kernel, one warp per head.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/device_math.cuh"

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
  const int hd = p.head_dim, half = hd / 2;
  const int n_all = p.n_heads + 2 * p.n_kv_heads;
  const long long row_width = static_cast<long long>(n_all) * hd;
  const int position = p.positions[t];
  float* buf = head_buffer[warp];
  // blockIdx.y picks a group of kWarps heads: a decode step (one token) still spreads its
  // q, k and v heads over several SMs.
  for (int h = blockIdx.y * kWarps + warp; h < n_all; h += kWarps * gridDim.y) {
    const float* src = p.qkv + t * row_width + static_cast<long long>(h) * hd;
    const float* bias = p.bias ? p.bias + static_cast<long long>(h) * hd : nullptr;
    const bool is_q = h < p.n_heads, is_k = !is_q && h < p.n_heads + p.n_kv_heads;
    float sum_sq = 0.0f;
    for (int i = lane; i < hd; i += 32) {
      float v = src[i] + (bias ? bias[i] : 0.0f);
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

}  // namespace

void rope_kv_write(const RopeKvParams& params, cudaStream_t stream) {
  EAQ_CHECK(params.head_dim % 2 == 0 && params.head_dim <= kMaxHeadDim, "head_dim {} unsupported on CUDA",
            params.head_dim);
  if (params.n_tokens <= 0) return;
  const int n_all = params.n_heads + 2 * params.n_kv_heads;
  const dim3 grid(params.n_tokens, (n_all + kWarps - 1) / kWarps);
  EAQ_CUDA_CHECK(launch_pdl(rope_kv_write_kernel, grid, kWarps * 32, 0, stream, params));
}

}  // namespace eaq::kernels::cuda
