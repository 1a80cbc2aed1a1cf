// Token embedding lookup from an f16 or f32 table on the device.
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
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

// Eight values a thread, one 16-byte (f16) or two (f32) loads, every load of the row in flight at
// once: the loop above had each thread wait for one element's load before the next (x may alias
// the table, so the compiler keeps the order), and a 4096-wide row took 7 us, the first kernel of
// every decode step (H100 trace, 2026-12-06).
__global__ void embedding_vec8_kernel(const void* __restrict__ table, bool table_f32, const std::int32_t* ids, int dim,
                                      float scale, float* __restrict__ x) {
  pdl_launch_dependents();
  pdl_wait();
  const long long t = blockIdx.y;
  const int i = (blockIdx.x * blockDim.x + threadIdx.x) * 8;
  if (i >= dim) return;
  const long long at = static_cast<long long>(ids[t]) * dim + i;
  float v[8];
  if (table_f32) {
    const float4 a = *reinterpret_cast<const float4*>(static_cast<const float*>(table) + at);
    const float4 b = *reinterpret_cast<const float4*>(static_cast<const float*>(table) + at + 4);
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
  } else {
    half8_to_float(*reinterpret_cast<const uint4*>(static_cast<const __half*>(table) + at), v);
  }
  float4* out = reinterpret_cast<float4*>(x + t * dim + i);
  out[0] = make_float4(v[0] * scale, v[1] * scale, v[2] * scale, v[3] * scale);
  out[1] = make_float4(v[4] * scale, v[5] * scale, v[6] * scale, v[7] * scale);
}

}  // namespace

void embedding_lookup(const void* table, DType table_dtype, const std::int32_t* ids, int n_tokens, int dim,
                      float scale, float* x, cudaStream_t stream) {
  EAQ_CHECK(table_dtype == DType::F16 || table_dtype == DType::F32, "embedding table must be f16 or f32");
  if (n_tokens <= 0) return;
  const auto aligned16 = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  if (dim % 8 == 0 && aligned16(table) && aligned16(x)) {
    constexpr int kThreads = 256;
    const dim3 grid(static_cast<unsigned>((dim / 8 + kThreads - 1) / kThreads), static_cast<unsigned>(n_tokens));
    EAQ_CUDA_CHECK(launch_pdl(embedding_vec8_kernel, grid, kThreads, 0, stream, table, table_dtype == DType::F32, ids,
                              dim, scale, x));
    return;
  }
  EAQ_CUDA_CHECK(launch_pdl(embedding_kernel, n_tokens, 256, 0, stream, table, table_dtype == DType::F32, ids, dim,
                            scale, x));
}

}  // namespace eaq::kernels::cuda
