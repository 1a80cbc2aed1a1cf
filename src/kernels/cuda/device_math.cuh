// Device-side building blocks shared by the decoder kernels: warp/block reductions, eight f16
// values to floats, and storing f32 as f16 or bf16.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace eaq::kernels::cuda {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Eight f16 values (one 16-byte load) as floats, in order.
__device__ __forceinline__ void half8_to_float(const uint4& raw, float* f) {
  const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __half22float2(h[i]);
    f[2 * i] = v.x;
    f[2 * i + 1] = v.y;
  }
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* shared32) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // shared32 may still be read by a previous call
  if (lane == 0) shared32[warp] = v;
  __syncthreads();
  const int n_warps = (blockDim.x + 31) >> 5;
  float total = lane < n_warps ? shared32[lane] : 0.0f;
  return warp_sum(total);
}

// act(g) * u: silu (SwiGLU) or gelu-tanh (GeGLU), as the CPU ops compute it (also host code: the
// GEMV emulation runs the gated epilogue on the CPU).
__host__ __device__ __forceinline__ float gated_value(float g, float u, bool gelu_tanh) {
  float a;
  if (gelu_tanh) {
    const float kAlpha = 0.7978845608028654f;  // sqrt(2 / pi)
    a = 0.5f * g * (1.0f + tanhf(kAlpha * (g + 0.044715f * g * g * g)));
  } else {
    a = g / (1.0f + expf(-g));
  }
  return a * u;
}

// Stores v as f16 (is_bf16 == false) or bf16 at element i of a 16-bit buffer.
__device__ __forceinline__ void store_half(void* out, long long i, float v, bool is_bf16) {
  if (is_bf16) {
    static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16(v);
  } else {
    static_cast<__half*>(out)[i] = __float2half(v);
  }
}

// Stores the four values of v as f16 or bf16 at elements i .. i + 3 of a 16-bit buffer, one 8-byte
// store (i a multiple of 4, the buffer 8-byte aligned).
__device__ __forceinline__ void store_half4(void* out, long long i, float4 v, bool is_bf16) {
  uint2 packed;
  if (is_bf16) {
    const __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
    packed.x = *reinterpret_cast<const unsigned*>(&lo);
    packed.y = *reinterpret_cast<const unsigned*>(&hi);
  } else {
    const __half2 lo = __floats2half2_rn(v.x, v.y), hi = __floats2half2_rn(v.z, v.w);
    packed.x = *reinterpret_cast<const unsigned*>(&lo);
    packed.y = *reinterpret_cast<const unsigned*>(&hi);
  }
  *reinterpret_cast<uint2*>(static_cast<unsigned short*>(out) + i) = packed;
}

}  // namespace eaq::kernels::cuda
