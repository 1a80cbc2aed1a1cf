// Dense f16/bf16 matrix times 1..8 f32 vectors, the decode GEMV of half-precision weights: one
// warp per output row, 16-byte weight loads (eight halves a lane), two loads in flight a lane,
// f32 accumulation; a scalar kernel covers rows whose length or alignment does not allow it.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"

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
  float acc[kBatch] = {};
  if (row < rows) {
    const uint4* wr = reinterpret_cast<const uint4*>(w + row * stride);
    const long long n_vec = cols / 8;
    constexpr long long kStep = 32LL * kSplit;
    long long v = part * 32LL + lane;
    // Four 16-byte loads in flight per lane before any is used.
    for (; v + 3 * kStep < n_vec; v += 4 * kStep) {
      uint4 raw[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) raw[u] = __ldg(wr + v + kStep * u);
#pragma unroll
      for (int u = 0; u < 4; ++u) {
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
    for (; v < n_vec; v += kStep) {
      const uint4 a = __ldg(wr + v);
      float fa[8];
      unpack8<kBf16>(a, fa);
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        const float4* xa = reinterpret_cast<const float4*>(x + bi * cols + v * 8);
        const float4 a0 = xa[0], a1 = xa[1];
        acc[bi] += fa[0] * a0.x + fa[1] * a0.y + fa[2] * a0.z + fa[3] * a0.w + fa[4] * a1.x + fa[5] * a1.y +
                   fa[6] * a1.z + fa[7] * a1.w;
      }
    }
  }
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
    half_matvec_scalar_kernel<kBf16><<<blocks, threads, 0, stream>>>(w, rows, cols, stride, x, batch, y);
    return;
  }
  // Few rows: four warps a row (one row a block); many rows: a warp a row (four rows a block).
  const bool split = rows < 16384;
  const unsigned split_blocks = static_cast<unsigned>(rows);
#define EAQ_HALF_MATVEC(B)                                                                              \
  if (split) {                                                                                          \
    half_matvec_vec8_kernel<kBf16, B, 4><<<split_blocks, threads, 0, stream>>>(w, rows, cols, stride, x, y); \
  } else {                                                                                              \
    half_matvec_vec8_kernel<kBf16, B, 1><<<blocks, threads, 0, stream>>>(w, rows, cols, stride, x, y);  \
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
