// After the fused QKV projection: bias, per-head q/k RMSNorm (gemma3), RoPE on q and k, and the
// write of k and v into the f16 KV cache at each token's position — one kernel, one warp per head.
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
