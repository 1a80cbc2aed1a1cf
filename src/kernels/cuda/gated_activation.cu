// SwiGLU / GeGLU over the fused gate|up projection output, optionally with a 16-bit copy for the
// down projection's cuBLAS GEMM.
#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

namespace {

__global__ void gated_activation_kernel(const float* gate_up, long long n_tokens, int inter, bool gelu_tanh,
                                        float* out, void* out_half, bool is_bf16) {
  pdl_launch_dependents();
  pdl_wait();
  const long long n = n_tokens * inter;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long t = idx / inter;
    const int i = static_cast<int>(idx - t * inter);
    const float g = gate_up[t * 2 * inter + i];
    const float u = gate_up[t * 2 * inter + inter + i];
    float a;
    if (gelu_tanh) {
      const float kAlpha = 0.7978845608028654f;  // sqrt(2 / pi)
      a = 0.5f * g * (1.0f + tanhf(kAlpha * (g + 0.044715f * g * g * g)));
    } else {
      a = g / (1.0f + expf(-g));
    }
    const float v = a * u;
    out[idx] = v;
    if (out_half) store_half(out_half, idx, v, is_bf16);
  }
}

}  // namespace

void gated_activation(const float* gate_up, int n_tokens, int inter, bool gelu_tanh, float* out, void* out_half,
                      DType half_dtype, cudaStream_t stream) {
  const long long n = static_cast<long long>(n_tokens) * inter;
  if (n <= 0) return;
  const int threads = 256;
  const long long blocks = std::min<long long>((n + threads - 1) / threads, 4096);
  EAQ_CUDA_CHECK(launch_pdl(gated_activation_kernel, static_cast<unsigned>(blocks), threads, 0, stream, gate_up,
                            static_cast<long long>(n_tokens), inter, gelu_tanh, out, out_half,
                            half_dtype == DType::BF16));
}

}  // namespace eaq::kernels::cuda
