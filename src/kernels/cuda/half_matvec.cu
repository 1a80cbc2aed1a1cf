// Dense f16/bf16 matrix times 1..8 f32 vectors, the decode GEMV of half-precision weights: one
// to four warps per output row, 16-byte weight loads (eight halves a lane), up to eight loads in
// flight a lane, f32 accumulation; a scalar kernel covers rows whose length or alignment does not allow it.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

template <bool kBf16>
__device__ __forceinline__ void unpack8(const uint4& raw, float* f) {
  if constexpr (kBf16) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 v = __bfloat1622float2(h[i]);
      f[2 * i] = v.x;
      f[2 * i + 1] = v.y;
    }
  } else {
    const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 v = __half22float2(h[i]);
      f[2 * i] = v.x;
      f[2 * i + 1] = v.y;
    }
  }
}

// kSplit warps share one row (each takes every kSplit-th group of 32 chunks), so matrices with
// few rows still put enough loads in flight to cover HBM latency.
template <bool kBf16, int kBatch, int kSplit>
__global__ void half_matvec_vec8_kernel(const uint16_t* w, long long rows, long long cols, long long stride,
                                        const float* x, float* y) {
  constexpr int kRowsPerBlock = kWarpsPerBlock / kSplit;
  __shared__ float partial[kWarpsPerBlock][kBatch];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const long long row = static_cast<long long>(blockIdx.x) * kRowsPerBlock + warp / kSplit;
  const int part = warp % kSplit;
  constexpr long long kStep = 32LL * kSplit;
  const long long n_vec = cols / 8;
  const uint4* wr = reinterpret_cast<const uint4*>(w + min(row, rows - 1) * stride);
  // A step is four 16-byte loads a lane; the next step's loads are in flight while this one
  // computes. Weights are not written by any kernel, so the first step's loads are issued before
  // waiting for the previous kernel (pdl.cuh) and stream during its tail. Loads past the row are
  // skipped (a short row, e.g. 2048 halves over four warps, is one step of two loads a lane).
  long long v = part * 32LL + lane;
  uint4 next[4];
#pragma unroll
  for (int u = 0; u < 4; ++u) {
    if (v + kStep * u < n_vec) next[u] = __ldg(wr + v + kStep * u);
  }
  pdl_wait();
  float acc[kBatch] = {};
  for (; v < n_vec; v += 4 * kStep) {
    uint4 raw[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) raw[u] = next[u];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      if (v + 4 * kStep + kStep * u < n_vec) next[u] = __ldg(wr + v + 4 * kStep + kStep * u);
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      if (v + kStep * u < n_vec) {
        float f[8];
        unpack8<kBf16>(raw[u], f);
#pragma unroll
        for (int bi = 0; bi < kBatch; ++bi) {
          const float4* xa = reinterpret_cast<const float4*>(x + bi * cols + (v + kStep * u) * 8);
          const float4 a0 = xa[0], a1 = xa[1];
          acc[bi] += f[0] * a0.x + f[1] * a0.y + f[2] * a0.z + f[3] * a0.w + f[4] * a1.x + f[5] * a1.y +
                     f[6] * a1.z + f[7] * a1.w;
        }
      }
    }
  }
  // The next kernel may be scheduled once every block has streamed its weights (gemv_kernel.cuh).
  pdl_launch_dependents();
#pragma unroll
  for (int bi = 0; bi < kBatch; ++bi) acc[bi] = warp_sum(acc[bi]);
  if constexpr (kSplit == 1) {
    if (lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) y[bi * rows + row] = acc[bi];
    }
  } else {
    if (lane == 0) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) partial[warp][bi] = acc[bi];
    }
    __syncthreads();
    if (part == 0 && lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        float total = 0.0f;
#pragma unroll
        for (int k = 0; k < kSplit; ++k) total += partial[warp + k][bi];
        y[bi * rows + row] = total;
      }
    }
  }
}

template <bool kBf16>
__global__ void half_matvec_scalar_kernel(const uint16_t* w, long long rows, long long cols, long long stride,
                                          const float* x, int batch, float* y) {
  pdl_launch_dependents();
  pdl_wait();
  const long long row = static_cast<long long>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  const int lane = threadIdx.x & 31;
  const uint16_t* wr = w + row * stride;
  for (int bi = 0; bi < batch; ++bi) {
    float acc = 0.0f;
    for (long long k = lane; k < cols; k += 32) {
      float wv;
      if constexpr (kBf16) {
        wv = __bfloat162float(__ushort_as_bfloat16(wr[k]));
      } else {
        wv = __half2float(__ushort_as_half(wr[k]));
      }
      acc += wv * x[bi * cols + k];
    }
    const float total = warp_sum(acc);
    if (lane == 0) y[bi * rows + row] = total;
  }
}

template <bool kBf16>
void launch(const uint16_t* w, long long rows, long long cols, long long stride, const float* x, int batch, float* y,
            cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const int threads = 32 * kWarpsPerBlock;
  const bool vec8 = cols % 8 == 0 && stride % 8 == 0 && reinterpret_cast<std::uintptr_t>(w) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(x) % 16 == 0;
  if (!vec8) {
    (void)launch_pdl(half_matvec_scalar_kernel<kBf16>, blocks, threads, 0, stream, w, rows, cols, stride, x, batch, y);
    return;
  }
  // Warps a row: enough that the matrix spreads over every SM, few enough that a lane has about
  // eight 16-byte loads of the row (two steps) — one step a lane (four warps on a 4096-long row)
  // measured 71-77% of the copy bandwidth on the H200 at 4096 and 11008 rows, three steps 97%.
  // Many rows (16384 or more): a warp a row.
  const long long loads_per_warp = cols / 8 / 32;
  const int split = rows >= 16384 ? 1 : loads_per_warp >= 32 ? 4 : loads_per_warp >= 16 ? 2 : 1;
  const unsigned split_blocks = static_cast<unsigned>((rows * split + kWarpsPerBlock - 1) / kWarpsPerBlock);
#define EAQ_HALF_MATVEC(B)                                                                               \
  if (split == 4) {                                                                                      \
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, B, 4>, split_blocks, threads, 0, stream, w, rows, cols, \
                     stride, x, y);                                                                      \
  } else if (split == 2) {                                                                               \
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, B, 2>, split_blocks, threads, 0, stream, w, rows, cols, \
                     stride, x, y);                                                                      \
  } else {                                                                                               \
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, B, 1>, blocks, threads, 0, stream, w, rows, cols,      \
                     stride, x, y);                                                                      \
  }
  switch (batch) {
    case 1: EAQ_HALF_MATVEC(1); break;
    case 2: EAQ_HALF_MATVEC(2); break;
    case 3: EAQ_HALF_MATVEC(3); break;
    case 4: EAQ_HALF_MATVEC(4); break;
    case 5: EAQ_HALF_MATVEC(5); break;
    case 6: EAQ_HALF_MATVEC(6); break;
    case 7: EAQ_HALF_MATVEC(7); break;
    default: EAQ_HALF_MATVEC(8); break;
  }
#undef EAQ_HALF_MATVEC
}

}  // namespace

void half_matvec(const void* w, DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                 const float* x, int batch, float* y, cudaStream_t stream) {
  EAQ_CHECK(dtype == DType::F16 || dtype == DType::BF16, "half_matvec takes f16 or bf16 weights");
  EAQ_CHECK(batch >= 1 && batch <= 8, "half_matvec batch {} outside 1..8", batch);
  if (rows <= 0) return;
  const auto* w16 = static_cast<const uint16_t*>(w);
  if (dtype == DType::BF16) {
    launch<true>(w16, rows, cols, row_stride, x, batch, y, stream);
  } else {
    launch<false>(w16, rows, cols, row_stride, x, batch, y, stream);
  }
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
