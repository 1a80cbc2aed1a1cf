// Small element-wise ops of the decoder: logit softcap, bias add, f32 → f16/bf16 (plain or split hi + lo).
#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kThreads = 256;
unsigned grid_for(long long n) { return static_cast<unsigned>(std::min<long long>((n + kThreads - 1) / kThreads, 8192)); }

__global__ void softcap_kernel(float* x, long long n, float cap) {
  pdl_launch_dependents();
  pdl_wait();
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    x[i] = cap * tanhf(x[i] / cap);
  }
}

__global__ void add_bias_kernel(float* y, const float* bias, long long rows, int n) {
  pdl_launch_dependents();
  pdl_wait();
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < rows * n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    y[i] += bias[i % n];
  }
}

__global__ void to_half_kernel(const float* x, long long n, void* out, bool is_bf16) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    store_half(out, i, x[i], is_bf16);
  }
}

__global__ void to_half_split_kernel(const float* x, long long n, void* hi, void* lo, void* lo2, bool is_bf16) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const float v = x[i];
    float h, l;
    if (is_bf16) {
      const __nv_bfloat16 b = __float2bfloat16(v);
      static_cast<__nv_bfloat16*>(hi)[i] = b;
      h = __bfloat162float(b);
      const __nv_bfloat16 c = __float2bfloat16(v - h);
      static_cast<__nv_bfloat16*>(lo)[i] = c;
      l = __bfloat162float(c);
    } else {
      const __half b = __float2half(v);
      static_cast<__half*>(hi)[i] = b;
      h = __half2float(b);
      const __half c = __float2half(v - h);
      static_cast<__half*>(lo)[i] = c;
      l = __half2float(c);
    }
    if (lo2) store_half(lo2, i, (v - h) - l, is_bf16);
  }
}

}  // namespace

void to_half_split(const float* x, std::int64_t n, void* hi, void* lo, DType half_dtype, cudaStream_t stream,
                   void* lo2) {
  if (n <= 0) return;
  to_half_split_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, n, hi, lo, lo2, half_dtype == DType::BF16);
  EAQ_CUDA_CHECK(cudaGetLastError());
}

void softcap(float* x, std::int64_t n, float cap, cudaStream_t stream) {
  if (n <= 0) return;
  EAQ_CUDA_CHECK(launch_pdl(softcap_kernel, grid_for(n), kThreads, 0, stream, x, static_cast<long long>(n), cap));
}

void add_bias(float* y, const float* bias, int rows, int n, cudaStream_t stream) {
  const long long total = static_cast<long long>(rows) * n;
  if (total <= 0) return;
  EAQ_CUDA_CHECK(launch_pdl(add_bias_kernel, grid_for(total), kThreads, 0, stream, y, bias,
                            static_cast<long long>(rows), n));
}

void to_half(const float* x, std::int64_t n, void* out, DType half_dtype, cudaStream_t stream) {
  if (n <= 0) return;
  to_half_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, n, out, half_dtype == DType::BF16);
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
