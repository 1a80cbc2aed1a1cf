// Fused residual add + RMSNorm (one block per row), optionally also writing a 16-bit copy of the
// normalised row for a cuBLAS GEMM.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

__global__ void add_rms_norm_kernel(float* x, const float* delta, const float* weight, float offset, float eps,
                                    int dim, float* y, void* y_half, bool is_bf16) {
  __shared__ float shared32[32];
  pdl_launch_dependents();
  pdl_wait();
  const long long row = blockIdx.x;
  float* xr = x + row * dim;
  const float* dr = delta ? delta + row * dim : nullptr;
  float sum_sq = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = xr[i];
    if (dr) {
      v += dr[i];
      xr[i] = v;
    }
    sum_sq += v * v;
  }
  const float inv_rms = rsqrtf(block_sum(sum_sq, shared32) / static_cast<float>(dim) + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = xr[i] * inv_rms * (weight[i] + offset);
    if (y) y[row * dim + i] = v;
    if (y_half) store_half(y_half, row * dim + i, v, is_bf16);
  }
}

// The common case (dim a multiple of 4, at most 4 * 4 * kVecThreadsMax, 16-byte aligned rows): each
// thread holds up to four float4 of the row in registers, so x is read once and the weights, which no
// kernel writes, are loaded before waiting on the previous kernel (pdl.cuh). The loop above read x
// twice with scalar loads; a decode step's norm (one row of 4096) took ~6.5 us in isolation (ncu, H200).
constexpr int kVecPerThread = 4;
constexpr int kVecThreadsMax = 1024;

__global__ void add_rms_norm_vec4_kernel(float* x, const float* delta, const float* weight, float offset, float eps,
                                         int dim, float* y, void* y_half, bool is_bf16) {
  __shared__ float shared32[32];
  const long long row = blockIdx.x;
  const int n4 = dim / 4;
  float4 w[kVecPerThread];
#pragma unroll
  for (int k = 0; k < kVecPerThread; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < n4) w[k] = __ldg(reinterpret_cast<const float4*>(weight) + i);
  }
  pdl_launch_dependents();
  pdl_wait();
  float4* xr = reinterpret_cast<float4*>(x + row * dim);
  const float4* dr = delta ? reinterpret_cast<const float4*>(delta + row * dim) : nullptr;
  float4 v[kVecPerThread];
  float sum_sq = 0.0f;
#pragma unroll
  for (int k = 0; k < kVecPerThread; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < n4) {
      v[k] = xr[i];
      if (dr) {
        const float4 d = dr[i];
        v[k] = make_float4(v[k].x + d.x, v[k].y + d.y, v[k].z + d.z, v[k].w + d.w);
        xr[i] = v[k];
      }
      sum_sq += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
    }
  }
  const float inv_rms = rsqrtf(block_sum(sum_sq, shared32) / static_cast<float>(dim) + eps);
  float4* yr = y ? reinterpret_cast<float4*>(y + row * dim) : nullptr;
#pragma unroll
  for (int k = 0; k < kVecPerThread; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < n4) {
      const float4 o = make_float4(v[k].x * inv_rms * (w[k].x + offset), v[k].y * inv_rms * (w[k].y + offset),
                                   v[k].z * inv_rms * (w[k].z + offset), v[k].w * inv_rms * (w[k].w + offset));
      if (yr) yr[i] = o;
      if (y_half) store_half4(y_half, row * dim + 4LL * i, o, is_bf16);
    }
  }
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

void add_rms_norm(float* x, const float* delta, const float* weight, float weight_offset, float eps, int rows,
                  int dim, float* y, void* y_half, DType half_dtype, cudaStream_t stream) {
  EAQ_CHECK(y != nullptr || y_half != nullptr, "add_rms_norm needs an output: y, y_half or both");
  if (rows <= 0) return;
  const int n4 = dim / 4;
  if (dim % 4 == 0 && n4 <= kVecPerThread * kVecThreadsMax && aligned16(x) && aligned16(delta) && aligned16(weight) &&
      aligned16(y) && reinterpret_cast<std::uintptr_t>(y_half) % 8 == 0) {
    const int per_block = (n4 + kVecPerThread - 1) / kVecPerThread;
    const int threads = std::max(32, std::min(kVecThreadsMax, (per_block + 31) / 32 * 32));
    EAQ_CUDA_CHECK(launch_pdl(add_rms_norm_vec4_kernel, rows, threads, 0, stream, x, delta, weight, weight_offset,
                              eps, dim, y, y_half, half_dtype == DType::BF16));
    return;
  }
  const int threads = dim >= 1024 ? 1024 : (dim >= 256 ? 256 : 128);
  EAQ_CUDA_CHECK(launch_pdl(add_rms_norm_kernel, rows, threads, 0, stream, x, delta, weight, weight_offset, eps, dim,
                            y, y_half, half_dtype == DType::BF16));
}

}  // namespace eaq::kernels::cuda
