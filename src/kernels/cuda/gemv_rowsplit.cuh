// EXPERIMENT (opt-in EAQ_CUDA_GEMV_ROWSPLIT=1; written 2026-12-05 without a GPU, compiled, not
// yet GPU-run — device_run_cuda.sh verify A/Bs it): the decode GEMV of the per-channel 8-bit formats (i8_ch, f8_e4m3_ch) at
// batch 1-2 scheduled as the dense f16 GEMV (half_matvec.cu):
//
// - kSplit warps a row, chosen as half_matvec's warps_per_row chooses them from the row's 16-byte
//   chunk count (four where the chunks divide evenly over four warps, two for short ragged rows);
// - a lane has four 16-byte code chunks of its row in flight while it computes the previous four;
// - the warps of a row add their sums through shared memory; the row scale is applied once.
//
// A first version (2026-12-05) chose the split from chunks a lane as half_matvec's old rule did
// (one warp a row for 4096-long int8 rows) and was slower than the split-K kernel (bench_gemv i8_ch
// 4096x4096 48.8% against 68.8% of the copy; engine 7B int8 293.7 against 317.1 tok/s,
// docs/cuda.md). This version gives 4096-long int8 rows (256 chunks) four warps, as f16 rows of 256
// chunks measured best (1.3B q|k|v 83.4% against 70.4% at one warp).
//
// The weights are in the chunk layout of gemv_formats.cuh, unchanged: chunk c of a row holds the
// pieces p of super-chunk c / 32 for lane c % 32, positions (c / 32) * 32 * kElems + p * 128 +
// 4 * (c % 32) .. + 3. Warps read chunks base + lane with base a multiple of 32, so each piece's
// activation float4 loads are contiguous across the warp, as in the split-K kernel.
// Included by gemv_int8.cu only.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/gemv_kernel.cuh"
#include "kernels/cuda/gemv_launch.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda::detail {

inline constexpr int kRowSplitWarps = 4;

template <class F, int B, int kSplit>
__global__ void __launch_bounds__(32 * kRowSplitWarps) gemv_rowsplit_kernel(GemvArgs a) {
  static_assert(!F::kGroupScale && !F::kUsesLut, "the row-split GEMV takes per-row formats only");
  constexpr int kRowsPerBlock = kRowSplitWarps / kSplit;
  constexpr int kPieces = F::kElems / 4;
  constexpr std::int64_t kSuper = 32 * F::kElems;
  constexpr std::int64_t kStep = 32LL * kSplit;
  __shared__ float partial[kRowSplitWarps][B];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + warp / kSplit;
  const std::int64_t row_read = row < a.rows ? row : a.rows - 1;  // rows past the end read the last
  const int part = warp % kSplit;
  const std::int64_t n_chunks = a.n_super * 32;
  // Codes are not written by any kernel: the first four chunks are requested before waiting for
  // the previous kernel (pdl.cuh).
  std::int64_t c = part * 32LL + lane;
  uint4 next[4];
#pragma unroll
  for (int u = 0; u < 4; ++u) {
    if (c + kStep * u < n_chunks) next[u] = F::load_codes(a, row_read, c + kStep * u);
  }
  pdl_wait();
  float acc[B] = {};
  for (; c < n_chunks; c += 4 * kStep) {
    uint4 q[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) q[u] = next[u];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      if (c + 4 * kStep + kStep * u < n_chunks) next[u] = F::load_codes(a, row_read, c + 4 * kStep + kStep * u);
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const std::int64_t chunk = c + kStep * u;
      if (chunk >= n_chunks) continue;
      const std::int64_t base = (chunk >> 5) * kSuper + lane * 4;
#pragma unroll
      for (int p = 0; p < kPieces; ++p) {
        const std::int64_t pos = base + p * 128;
        if (pos >= a.cols) continue;  // the last super-chunk's padding
        const float4 w = F::decode(q[u], p, typename F::Meta{}, nullptr);
#pragma unroll
        for (int b = 0; b < B; ++b) {
          acc[b] = dot4_add(w, load_ro(reinterpret_cast<const float4*>(a.x + b * a.cols + pos)), acc[b]);
        }
      }
    }
  }
  // As in the split-K kernel: the next kernel may be scheduled once the codes are streamed.
  pdl_launch_dependents();
#pragma unroll
  for (int b = 0; b < B; ++b) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc[b] += __shfl_xor_sync(0xffffffffu, acc[b], off);
  }
  if constexpr (kSplit > 1) {
    if (lane == 0) {
#pragma unroll
      for (int b = 0; b < B; ++b) partial[warp][b] = acc[b];
    }
    __syncthreads();
    if (part != 0) return;
#pragma unroll
    for (int b = 0; b < B; ++b) {
      float total = 0.0f;
#pragma unroll
      for (int k = 0; k < kSplit; ++k) total += partial[warp + k][b];
      acc[b] = total;
    }
  }
  if (lane == 0 && row < a.rows) {
    const float scale = F::row_scale(a, row);
#pragma unroll
    for (int b = 0; b < B; ++b) store_output(a, b, row, acc[b] * scale);
  }
}

template <class F, int B, int kSplit>
void launch_rowsplit_split(const GemvArgs& a, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((a.rows * kSplit + kRowSplitWarps - 1) / kRowSplitWarps);
  (void)launch_pdl(gemv_rowsplit_kernel<F, B, kSplit>, blocks, 32 * kRowSplitWarps, 0, stream, a);
}

template <class F, int B>
void launch_rowsplit_batch(const GemvArgs& a, cudaStream_t stream) {
  // half_matvec's warps_per_row on the row's 16-byte chunks (padding included).
  const std::int64_t n_chunks = a.n_super * 32;
  const int split = n_chunks % 128 == 0 ? 4 : n_chunks < 1280 ? (a.rows >= 16384 ? 1 : 2) : 4;
  if (split == 4) {
    launch_rowsplit_split<F, B, 4>(a, stream);
  } else if (split == 2) {
    launch_rowsplit_split<F, B, 2>(a, stream);
  } else {
    launch_rowsplit_split<F, B, 1>(a, stream);
  }
}

template <class F>
void launch_gemv_rowsplit(const GemvArgs& a, int batch, cudaStream_t stream) {
  if (batch == 1) {
    launch_rowsplit_batch<F, 1>(a, stream);
  } else {
    launch_rowsplit_batch<F, 2>(a, stream);
  }
}

}  // namespace eaq::kernels::cuda::detail
