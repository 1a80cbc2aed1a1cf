// Token embedding lookup from an f16 or f32 table on the device.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

__global__ void embedding_kernel(const void* table, bool table_f32, const std::int32_t* ids, int dim, float scale,
                                 float* x) {
  pdl_launch_dependents();
  pdl_wait();
  const long long t = blockIdx.x;
  const long long row = static_cast<long long>(ids[t]) * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = table_f32 ? static_cast<const float*>(table)[row + i]
                              : __half2float(static_cast<const __half*>(table)[row + i]);
    x[t * dim + i] = v * scale;
  }
}

}  // namespace

void embedding_lookup(const void* table, DType table_dtype, const std::int32_t* ids, int n_tokens, int dim,
                      float scale, float* x, cudaStream_t stream) {
  EAQ_CHECK(table_dtype == DType::F16 || table_dtype == DType::F32, "embedding table must be f16 or f32");
  if (n_tokens <= 0) return;
  EAQ_CUDA_CHECK(launch_pdl(embedding_kernel, n_tokens, 256, 0, stream, table, table_dtype == DType::F32, ids, dim,
                            scale, x));
}

}  // namespace eaq::kernels::cuda
