// After the fused QKV projection: bias, per-head q/k RMSNorm (gemma3), RoPE on q and k, and the
// write of k and v into the f16 KV cache at each token's position — one kernel, a warp a head at a
// time. For head_dim 64, 128 and 256 each lane holds head_dim / 32 adjacent values in registers
// (16- or 8-byte loads and stores; a neox pair's partner is 16 lanes away, a shuffle), reads an f16
// q|k|v as well as f32 (RopeKvParams::qkv_f16), and takes its heads four at a time; other sizes go
// through shared memory (qkv_head.cuh). EAQ_CUDA_ROPE_VEC=0 runs the latter for every size (A/B).
#include <cuda_fp16.h>

#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/env_switch.h"
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

// kV f16 values (an 8- or 16-byte load, kV 4 or 8; 4 bytes for kV 2) as floats.
template <int kV>
__device__ __forceinline__ void load_lane_half(const __half* src, float* v) {
  if constexpr (kV == 2) {
    const float2 a = __half22float2(*reinterpret_cast<const __half2*>(src));
    v[0] = a.x;
    v[1] = a.y;
  } else if constexpr (kV == 4) {
    const uint2 u = *reinterpret_cast<const uint2*>(src);
    const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&u.x));
    const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&u.y));
    v[0] = a.x;
    v[1] = a.y;
    v[2] = b.x;
    v[3] = b.y;
  } else {
#pragma unroll
    for (int j = 0; j < kV; j += 8) {
      const uint4 u = *reinterpret_cast<const uint4*>(src + j);
      const unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&w[k]));
        v[j + 2 * k] = a.x;
        v[j + 2 * k + 1] = a.y;
      }
    }
  }
}

template <int kV>
__device__ __forceinline__ void load_lane(const float* src, float* v) {
  if constexpr (kV == 2) {
    const float2 a = *reinterpret_cast<const float2*>(src);
    v[0] = a.x;
    v[1] = a.y;
  } else {
#pragma unroll
    for (int j = 0; j < kV; j += 4) {
      const float4 a = *reinterpret_cast<const float4*>(src + j);
      v[j] = a.x;
      v[j + 1] = a.y;
      v[j + 2] = a.z;
      v[j + 3] = a.w;
    }
  }
}

template <int kV>
__device__ __forceinline__ void store_lane(float* dst, const float* v) {
  if constexpr (kV == 2) {
    *reinterpret_cast<float2*>(dst) = make_float2(v[0], v[1]);
  } else {
#pragma unroll
    for (int j = 0; j < kV; j += 4) {
      *reinterpret_cast<float4*>(dst + j) = make_float4(v[j], v[j + 1], v[j + 2], v[j + 3]);
    }
  }
}

template <int kV>
__device__ __forceinline__ void store_lane_half(__half* dst, const float* v) {
  __half2 h[kV / 2];
#pragma unroll
  for (int j = 0; j < kV / 2; ++j) h[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
  if constexpr (kV == 2) {
    *reinterpret_cast<__half2*>(dst) = h[0];
  } else {
#pragma unroll
    for (int j = 0; j < kV / 2; j += 2) {
      uint2 u;
      u.x = *reinterpret_cast<const unsigned*>(&h[j]);
      u.y = *reinterpret_cast<const unsigned*>(&h[j + 1]);
      *reinterpret_cast<uint2*>(dst + 2 * j) = u;
    }
  }
}

// The same as rope_kv_write_kernel for head_dim = 32 * kV, each lane's values in registers. The
// arithmetic is prepare_qkv_head's (same order within a value; the norm's sum of squares adds in
// another order). A lane's rotation (cos, sin of each of its values' angles) is the same for every
// q and k head of the token: it is computed once, before the heads. Each warp takes its heads
// kHeadsInFlight at a time, their loads issued together (a prefill runs one block a token, each
// warp a twelfth of the 7B's 96 heads: one head a warp at a time, the kernel was latency-bound).
constexpr int kHeadsInFlight = 4;
template <int kV>
__global__ void rope_kv_write_vec_kernel(RopeKvParams p) {
  constexpr int kHd = 32 * kV, kHalf = kHd / 2;
  pdl_launch_dependents();
  pdl_wait();
  const int t = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int n_all = p.n_heads + 2 * p.n_kv_heads;
  const int position = p.positions[t];
  const long long row_width = static_cast<long long>(n_all) * kHd;
  const int first = lane * kV;
  // neox: value j pairs with the value 16 lanes away (frequency index i below); normal: values j
  // and j + 1 are a pair.
  float cos_v[kV], sin_v[kV];
  const bool low = lane < 16;
  auto rotation = [&](int j, int i) {
    const float angle = static_cast<float>(position) * p.inv_freq[i];
    float sn = 0.0f, cs = 0.0f;
    sincosf(angle, &sn, &cs);
    cos_v[j] = cs * p.attention_factor;
    sin_v[j] = sn * p.attention_factor;
  };
  if (p.neox) {
#pragma unroll
    for (int j = 0; j < kV; ++j) rotation(j, low ? first + j : first + j - kHalf);
  } else {
#pragma unroll
    for (int j = 0; j < kV; j += 2) {
      rotation(j, (first + j) / 2);
      cos_v[j + 1] = cos_v[j];
      sin_v[j + 1] = sin_v[j];
    }
  }
  const int stride = kWarps * gridDim.y;
  for (int h0 = blockIdx.y * kWarps + warp; h0 < n_all; h0 += kHeadsInFlight * stride) {
    float v[kHeadsInFlight][kV];
#pragma unroll
    for (int u = 0; u < kHeadsInFlight; ++u) {
      const int h = h0 + u * stride;
      if (h >= n_all) break;
      const long long at = t * row_width + static_cast<long long>(h) * kHd + first;
      if (p.qkv_f16) {
        load_lane_half<kV>(reinterpret_cast<const __half*>(p.qkv) + at, v[u]);
      } else {
        load_lane<kV>(p.qkv + at, v[u]);
      }
    }
#pragma unroll
    for (int u = 0; u < kHeadsInFlight; ++u) {
      const int h = h0 + u * stride;
      if (h >= n_all) break;
      const bool is_q = h < p.n_heads, is_k = !is_q && h < p.n_heads + p.n_kv_heads;
      float* x = v[u];
      if (p.bias) {
        float b[kV];
        load_lane<kV>(p.bias + static_cast<long long>(h) * kHd + first, b);
#pragma unroll
        for (int j = 0; j < kV; ++j) x[j] += b[j];
      }
      const float* norm = is_q ? p.q_norm : (is_k ? p.k_norm : nullptr);
      if (norm) {  // warp-uniform
        float sum_sq = 0.0f;
#pragma unroll
        for (int j = 0; j < kV; ++j) sum_sq += x[j] * x[j];
        const float inv_rms = rsqrtf(warp_sum(sum_sq) / static_cast<float>(kHd) + p.norm_eps);
        float g[kV];
        load_lane<kV>(norm + first, g);
#pragma unroll
        for (int j = 0; j < kV; ++j) x[j] = x[j] * inv_rms * (g[j] + p.norm_offset);
      }
      if (is_q || is_k) {
        if (p.neox) {
          // Pair (i, i + kHalf): lanes below 16 hold the first halves, their partners 16 lanes up.
#pragma unroll
          for (int j = 0; j < kV; ++j) {
            const float other = __shfl_xor_sync(0xffffffffu, x[j], 16);
            // x0 = the pair's first value, x1 its second.
            x[j] = low ? x[j] * cos_v[j] - other * sin_v[j] : x[j] * cos_v[j] + other * sin_v[j];
          }
        } else {
#pragma unroll
          for (int j = 0; j < kV; j += 2) {
            const float x0 = x[j], x1 = x[j + 1];
            x[j] = x0 * cos_v[j] - x1 * sin_v[j];
            x[j + 1] = x1 * cos_v[j] + x0 * sin_v[j];
          }
        }
      }
      if (is_q) {
        store_lane<kV>(p.q_out + (static_cast<long long>(t) * p.n_heads + h) * kHd + first, x);
      } else {
        const int kv_head = is_k ? h - p.n_heads : h - p.n_heads - p.n_kv_heads;
        __half* cache = static_cast<__half*>(is_k ? p.k_cache : p.v_cache);
        store_lane_half<kV>(cache + (static_cast<long long>(position) * p.n_kv_heads + kv_head) * kHd + first, x);
      }
    }
  }
}

// EAQ_CUDA_ROPE_VEC=0: the shared-memory kernel for every head size (A/B); unset or 1: the rule.
// Read at each call (the test switches it).
bool rope_vec_enabled() {
  return env_switch("EAQ_CUDA_ROPE_VEC", true, "1: registers for head_dim 64, 128 and 256");
}

}  // namespace

bool rope_reads_f16_qkv(int head_dim) {
  return (head_dim == 64 || head_dim == 128 || head_dim == 256) && rope_vec_enabled();
}

void rope_kv_write(const RopeKvParams& params, cudaStream_t stream) {
  EAQ_CHECK(params.head_dim % 2 == 0 && params.head_dim <= kMaxHeadDim, "head_dim {} unsupported on CUDA",
            params.head_dim);
  EAQ_CHECK(!params.qkv_f16 || rope_reads_f16_qkv(params.head_dim),
            "rope_kv_write: an f16 qkv needs head_dim 64, 128 or 256 and the register kernel (EAQ_CUDA_ROPE_VEC unset or "
            "1); head_dim is {}",
            params.head_dim);
  if (params.n_tokens <= 0) return;
  const int n_all = params.n_heads + 2 * params.n_kv_heads;
  const dim3 grid(params.n_tokens, (n_all + kWarps - 1) / kWarps);
  const int hd = params.head_dim;
  if (rope_reads_f16_qkv(hd)) {
    // Blocks of 8 warps a token; the heads of a token spread over blockIdx.y only where the tokens
    // alone leave SMs idle (a decode step of one token: each warp one head).
    const int head_groups = (n_all + kWarps - 1) / kWarps;
    const int wanted = (2 * multiprocessor_count() + params.n_tokens - 1) / params.n_tokens;
    const dim3 vec_grid(params.n_tokens, std::min(head_groups, std::max(1, wanted)));
    auto kernel = hd == 64    ? rope_kv_write_vec_kernel<2>
                  : hd == 128 ? rope_kv_write_vec_kernel<4>
                              : rope_kv_write_vec_kernel<8>;
    EAQ_CUDA_CHECK(launch_pdl(kernel, vec_grid, kWarps * 32, 0, stream, params));
    return;
  }
  EAQ_CUDA_CHECK(launch_pdl(rope_kv_write_kernel, grid, kWarps * 32, 0, stream, params));
}

}  // namespace eaq::kernels::cuda
