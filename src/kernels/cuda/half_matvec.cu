// Dense f16/bf16 matrix times 1..8 f32 vectors, the decode GEMV of half-precision weights: one
// to four warps per output row, 16-byte weight loads (eight halves a lane), up to eight loads in
// flight a lane, f32 accumulation; a scalar kernel covers rows whose length or alignment does not allow it.
// Optionally fused (HalfMatvecFusion): an RMSNorm of the input — the warps of a row read all of x
// for the dot product anyway, so they also sum its squares, and the row's result is scaled by
// 1/rms at the end: y = (sum_k W[n][k] x[k] g[k]) / rms(x) — and an epilogue (bias, y +=).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

struct MatvecArgs {
  const uint16_t* w;
  long long rows, cols, stride;
  const float* x;
  float* y;
  const float* norm_weight;  // nullptr: no input norm
  float norm_offset, norm_eps;
  const float* bias;
  int accumulate;
};

// Output (b, row) of a row's dot product and, with the norm, the sum of squares of x[b].
__device__ __forceinline__ void store_matvec_output(const MatvecArgs& a, int b, long long row, float dot, float sum_sq) {
  float v = dot;
  if (a.norm_weight != nullptr) v *= rsqrtf(sum_sq / static_cast<float>(a.cols) + a.norm_eps);
  if (a.bias != nullptr) v += a.bias[row];
  float* out = a.y + b * a.rows + row;
  if (a.accumulate) v += *out;
  *out = v;
}

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
// few rows still put enough loads in flight to cover HBM latency. kNorm: the input RMSNorm.
template <bool kBf16, int kBatch, int kSplit, bool kNorm>
__global__ void half_matvec_vec8_kernel(MatvecArgs a) {
  constexpr int kRowsPerBlock = kWarpsPerBlock / kSplit;
  __shared__ float partial[kWarpsPerBlock][kBatch];
  __shared__ float partial_sq[kNorm ? kWarpsPerBlock : 1][kBatch];
  const long long rows = a.rows, cols = a.cols;
  const float* x = a.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const long long row = static_cast<long long>(blockIdx.x) * kRowsPerBlock + warp / kSplit;
  const int part = warp % kSplit;
  constexpr long long kStep = 32LL * kSplit;
  const long long n_vec = cols / 8;
  const uint4* wr = reinterpret_cast<const uint4*>(a.w + min(row, rows - 1) * a.stride);
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
  float sum_sq[kBatch] = {};
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
        if constexpr (kNorm) {
          // The norm's weights (no kernel writes them) fold into this row's weights.
          const float4* ga = reinterpret_cast<const float4*>(a.norm_weight + (v + kStep * u) * 8);
          const float4 g0 = __ldg(ga), g1 = __ldg(ga + 1);
          const float off = a.norm_offset;
          f[0] *= g0.x + off;
          f[1] *= g0.y + off;
          f[2] *= g0.z + off;
          f[3] *= g0.w + off;
          f[4] *= g1.x + off;
          f[5] *= g1.y + off;
          f[6] *= g1.z + off;
          f[7] *= g1.w + off;
        }
#pragma unroll
        for (int bi = 0; bi < kBatch; ++bi) {
          const float4* xa = reinterpret_cast<const float4*>(x + bi * cols + (v + kStep * u) * 8);
          const float4 a0 = xa[0], a1 = xa[1];
          acc[bi] += f[0] * a0.x + f[1] * a0.y + f[2] * a0.z + f[3] * a0.w + f[4] * a1.x + f[5] * a1.y +
                     f[6] * a1.z + f[7] * a1.w;
          if constexpr (kNorm) {
            sum_sq[bi] += a0.x * a0.x + a0.y * a0.y + a0.z * a0.z + a0.w * a0.w + a1.x * a1.x + a1.y * a1.y +
                          a1.z * a1.z + a1.w * a1.w;
          }
        }
      }
    }
  }
  // The next kernel may be scheduled once every block has streamed its weights (gemv_kernel.cuh).
  pdl_launch_dependents();
#pragma unroll
  for (int bi = 0; bi < kBatch; ++bi) {
    acc[bi] = warp_sum(acc[bi]);
    if constexpr (kNorm) sum_sq[bi] = warp_sum(sum_sq[bi]);
  }
  if constexpr (kSplit == 1) {
    if (lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) store_matvec_output(a, bi, row, acc[bi], sum_sq[bi]);
    }
  } else {
    if (lane == 0) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        partial[warp][bi] = acc[bi];
        if constexpr (kNorm) partial_sq[warp][bi] = sum_sq[bi];
      }
    }
    __syncthreads();
    if (part == 0 && lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        float total = 0.0f, total_sq = 0.0f;
#pragma unroll
        for (int k = 0; k < kSplit; ++k) {
          total += partial[warp + k][bi];
          if constexpr (kNorm) total_sq += partial_sq[warp + k][bi];
        }
        store_matvec_output(a, bi, row, total, total_sq);
      }
    }
  }
}

template <bool kBf16>
__global__ void half_matvec_scalar_kernel(MatvecArgs a, int batch) {
  pdl_launch_dependents();
  pdl_wait();
  const long long row = static_cast<long long>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= a.rows) return;
  const int lane = threadIdx.x & 31;
  const uint16_t* wr = a.w + row * a.stride;
  for (int bi = 0; bi < batch; ++bi) {
    float acc = 0.0f, sum_sq = 0.0f;
    for (long long k = lane; k < a.cols; k += 32) {
      float wv;
      if constexpr (kBf16) {
        wv = __bfloat162float(__ushort_as_bfloat16(wr[k]));
      } else {
        wv = __half2float(__ushort_as_half(wr[k]));
      }
      const float xv = a.x[bi * a.cols + k];
      if (a.norm_weight != nullptr) {
        wv *= a.norm_weight[k] + a.norm_offset;
        sum_sq += xv * xv;
      }
      acc += wv * xv;
    }
    const float total = warp_sum(acc);
    const float total_sq = warp_sum(sum_sq);
    if (lane == 0) store_matvec_output(a, bi, row, total, total_sq);
  }
}

template <bool kBf16, int kBatch, bool kNorm>
void launch_vec8(const MatvecArgs& a, int split, cudaStream_t stream) {
  const int threads = 32 * kWarpsPerBlock;
  const unsigned blocks = static_cast<unsigned>((a.rows * split + kWarpsPerBlock - 1) / kWarpsPerBlock);
  if (split == 4) {
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, kBatch, 4, kNorm>, blocks, threads, 0, stream, a);
  } else if (split == 2) {
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, kBatch, 2, kNorm>, blocks, threads, 0, stream, a);
  } else {
    (void)launch_pdl(half_matvec_vec8_kernel<kBf16, kBatch, 1, kNorm>, blocks, threads, 0, stream, a);
  }
}

template <bool kBf16, bool kNorm>
void launch_batch(const MatvecArgs& a, int batch, int split, cudaStream_t stream) {
  switch (batch) {
    case 1: launch_vec8<kBf16, 1, kNorm>(a, split, stream); break;
    case 2: launch_vec8<kBf16, 2, kNorm>(a, split, stream); break;
    case 3: launch_vec8<kBf16, 3, kNorm>(a, split, stream); break;
    case 4: launch_vec8<kBf16, 4, kNorm>(a, split, stream); break;
    case 5: launch_vec8<kBf16, 5, kNorm>(a, split, stream); break;
    case 6: launch_vec8<kBf16, 6, kNorm>(a, split, stream); break;
    case 7: launch_vec8<kBf16, 7, kNorm>(a, split, stream); break;
    default: launch_vec8<kBf16, 8, kNorm>(a, split, stream); break;
  }
}

template <bool kBf16>
void launch(const MatvecArgs& a, int batch, cudaStream_t stream) {
  const bool vec8 = a.cols % 8 == 0 && a.stride % 8 == 0 && reinterpret_cast<std::uintptr_t>(a.w) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(a.x) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(a.norm_weight) % 16 == 0;
  if (!vec8) {
    const unsigned blocks = static_cast<unsigned>((a.rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    (void)launch_pdl(half_matvec_scalar_kernel<kBf16>, blocks, 32 * kWarpsPerBlock, 0, stream, a, batch);
    return;
  }
  // Warps a row: enough that the matrix spreads over every SM, few enough that a lane has about
  // eight 16-byte loads of the row (two steps) — one step a lane (four warps on a 4096-long row)
  // measured 71-77% of the copy bandwidth on the H200 at 4096 and 11008 rows, three steps 97%.
  // Many rows (16384 or more): a warp a row.
  const long long loads_per_warp = a.cols / 8 / 32;
  const int split = a.rows >= 16384 ? 1 : loads_per_warp >= 32 ? 4 : loads_per_warp >= 16 ? 2 : 1;
  if (a.norm_weight != nullptr) {
    launch_batch<kBf16, true>(a, batch, split, stream);
  } else {
    launch_batch<kBf16, false>(a, batch, split, stream);
  }
}

}  // namespace

void half_matvec(const void* w, DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                 const float* x, int batch, float* y, cudaStream_t stream, const HalfMatvecFusion& fusion) {
  EAQ_CHECK(dtype == DType::F16 || dtype == DType::BF16, "half_matvec takes f16 or bf16 weights");
  EAQ_CHECK(batch >= 1 && batch <= 8, "half_matvec batch {} outside 1..8", batch);
  if (rows <= 0) return;
  MatvecArgs a{};
  a.w = static_cast<const uint16_t*>(w);
  a.rows = rows;
  a.cols = cols;
  a.stride = row_stride;
  a.x = x;
  a.y = y;
  a.norm_weight = fusion.norm_weight;
  a.norm_offset = fusion.norm_offset;
  a.norm_eps = fusion.norm_eps;
  a.bias = fusion.bias;
  a.accumulate = fusion.accumulate ? 1 : 0;
  if (dtype == DType::BF16) {
    launch<true>(a, batch, stream);
  } else {
    launch<false>(a, batch, stream);
  }
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
