// Token embedding lookup from an f16 table on the device.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"

namespace eaq::kernels::cuda {

namespace {

__global__ void embedding_f16_kernel(const __half* table, const std::int32_t* ids, int dim, float scale, float* x) {
  const long long t = blockIdx.x;
  const __half* row = table + static_cast<long long>(ids[t]) * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) x[t * dim + i] = __half2float(row[i]) * scale;
}

}  // namespace

void embedding_f16(const void* table_f16, const std::int32_t* ids, int n_tokens, int dim, float scale, float* x,
                   cudaStream_t stream) {
  if (n_tokens <= 0) return;
  embedding_f16_kernel<<<n_tokens, 256, 0, stream>>>(static_cast<const __half*>(table_f16), ids, dim, scale, x);
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
