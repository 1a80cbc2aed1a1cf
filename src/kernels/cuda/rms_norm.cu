// Fused residual add + RMSNorm (one block per row), optionally also writing a 16-bit copy of the
// normalised row for a cuBLAS GEMM.
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
  float* yr = y + row * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = xr[i] * inv_rms * (weight[i] + offset);
    yr[i] = v;
    if (y_half) store_half(y_half, row * dim + i, v, is_bf16);
  }
}

}  // namespace

void add_rms_norm(float* x, const float* delta, const float* weight, float weight_offset, float eps, int rows,
                  int dim, float* y, void* y_half, DType half_dtype, cudaStream_t stream) {
  if (rows <= 0) return;
  const int threads = dim >= 1024 ? 1024 : (dim >= 256 ? 256 : 128);
  EAQ_CUDA_CHECK(launch_pdl(add_rms_norm_kernel, rows, threads, 0, stream, x, delta, weight, weight_offset, eps, dim,
                            y, y_half, half_dtype == DType::BF16));
}

}  // namespace eaq::kernels::cuda
