// dequantize_rows_f16(): rows of a packed GPU weight as dense f16, the operand of the prefill GEMM
// for the packed formats (the decode GEMV reads them packed). One thread per 16-byte code chunk
// (dequantize_chunk.cuh), decoded with the GEMV's own per-format functions (gemv_formats.cuh), so
// both paths read the same layout the same way: value = decode(code) x group scale (x row scale), rounded to f16.
// Per-row-scaled formats (int8, fp8 per channel) can leave the row scale out: their codes are
// exact in f16, and scale_columns() applies the scale to the GEMM's f32 output instead.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/dequantize_chunk.cuh"
#include "kernels/cuda/gemv_formats.cuh"
#include "kernels/cuda/gemv_mma.cuh"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

namespace {

using detail::GemvArgs;

template <class F>
__global__ void dequantize_f16_kernel(GemvArgs a, std::int64_t row_begin, std::int64_t n_rows, std::int64_t stride,
                                      bool apply_row_scale, __half* out) {
  const std::int64_t chunks = a.n_super * 32;
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * chunks) return;
  const std::int64_t r = i / chunks, c = i - r * chunks;
  const bool quad_aligned = stride % 4 == 0 && reinterpret_cast<std::uintptr_t>(out) % 8 == 0;
  detail::dequantize_chunk<F>(a, row_begin + r, c, apply_row_scale, (stride & 1) == 0, quad_aligned, out + r * stride);
}

// The tensor-core layout (gemv_mma.cuh): a block of kDequantWarps warps takes kDequantWarps x
// kDequantTilesPerWarp column tiles of one row tile, each warp loading its consecutive tiles at
// once and decoding them into shared memory; then the block writes the 16 rows out whole, a
// thread 16 bytes a store (a warp 512 contiguous bytes) where the row allows. Written straight
// from the fragments, each store of a warp touched 8 rows: measured 35% slower prefill on the H200.
// Measured on an H100 (2026-12-07, docs/cuda.md): the 7B int4-g128 prefill-512 25388 / 25148 /
// 25030 tok/s against 24082-24483 with the form before (a warp one tile, 2 KB of codes in flight a
// block, 4-byte stores, consecutive threads on consecutive pairs), the 1.3B 109700 against
// 101889-102270. Stores of 4 bytes at a 16-byte stride between threads (each thread its 8 columns
// pair by pair) cost that form a fifth more: 19132 / 19221 tok/s on the 7B.
constexpr int kDequantWarps = 4;
constexpr int kDequantTilesPerWarp = 4;

template <class F>
__global__ void __launch_bounds__(32 * kDequantWarps)
    dequantize_mma_f16_kernel(GemvArgs a, std::int64_t tr0, std::int64_t row_begin, std::int64_t n_rows,
                              std::int64_t stride, bool apply_row_scale, __half* out) {
  constexpr int kCols = kDequantWarps * kDequantTilesPerWarp * F::kTileCols;
  __shared__ __align__(16) __half2 staged[detail::kMmaTileRows][kCols / 2];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const std::int64_t tr = tr0 + blockIdx.y, col0 = static_cast<std::int64_t>(blockIdx.x) * kCols;
  const std::int64_t kt0 = (static_cast<std::int64_t>(blockIdx.x) * kDequantWarps + warp) * kDequantTilesPerWarp;
  uint4 q[kDequantTilesPerWarp];
#pragma unroll
  for (int u = 0; u < kDequantTilesPerWarp; ++u) {
    if (kt0 + u < a.n_super) q[u] = detail::load_stream16(detail::mma_chunk_codes(a, tr, kt0 + u, lane));
  }
#pragma unroll
  for (int u = 0; u < kDequantTilesPerWarp; ++u) {
    if (kt0 + u < a.n_super) {
      detail::decode_mma_chunk<F>(a, q[u], tr, kt0 + u, lane, apply_row_scale,
                                  [&](std::int64_t row, std::int64_t col, __half2 v) {
                                    staged[row - tr * detail::kMmaTileRows][(col - col0) / 2] = v;
                                  });
    }
  }
  __syncthreads();
  // 8 columns (16 bytes) an item: one uint4 store where the 8 lie inside the row and the output
  // row is 16-byte aligned (stride a multiple of 8 halves), else pair by pair.
  constexpr int kOctets = kCols / 8;
  const bool wide = stride % 8 == 0 && reinterpret_cast<std::uintptr_t>(out) % 16 == 0;
  for (int i = threadIdx.x; i < detail::kMmaTileRows * kOctets; i += blockDim.x) {
    const int r = i / kOctets, c = 8 * (i % kOctets);
    const std::int64_t row = tr * detail::kMmaTileRows + r, col = col0 + c;
    if (row < row_begin || row >= row_begin + n_rows || col >= a.cols) continue;
    __half* dst = out + (row - row_begin) * stride + col;
    if (wide && col + 8 <= a.cols) {
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(&staged[r][c / 2]);
      continue;
    }
    for (int k = 0; k < 8 && col + k < a.cols; k += 2) {
      const __half2 v = staged[r][(c + k) / 2];
      if ((stride & 1) == 0) {
        *reinterpret_cast<__half2*>(dst + k) = v;
      } else {
        dst[k] = __low2half(v);
        dst[k + 1] = __high2half(v);
      }
    }
  }
}

__global__ void scale_columns_kernel(float* y, std::int64_t y_stride, std::int64_t n_rows, const float* scales,
                                     std::int64_t n_cols) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * n_cols) return;
  const std::int64_t r = i / n_cols, c = i - r * n_cols;
  y[r * y_stride + c] *= scales[c];
}

}  // namespace

const float* row_scales(const GpuWeight& w) {
  const bool per_row = w.dtype == DType::I8_CH || w.dtype == DType::F8_E4M3_CH;
  return per_row ? static_cast<const float*>(w.scales) : nullptr;
}

void scale_columns(float* y, std::int64_t y_stride, std::int64_t n_rows, const float* scales, std::int64_t n_cols,
                   cudaStream_t stream) {
  if (n_rows <= 0 || n_cols <= 0) return;
  constexpr int kBlock = 256;
  const auto blocks = static_cast<unsigned>((n_rows * n_cols + kBlock - 1) / kBlock);
  scale_columns_kernel<<<blocks, kBlock, 0, stream>>>(y, y_stride, n_rows, scales, n_cols);
  EAQ_CUDA_CHECK(cudaGetLastError());
}

void dequantize_rows_f16(const GpuWeight& w, std::int64_t row_begin, std::int64_t n_rows, std::int64_t stride,
                         bool apply_row_scales, void* out, cudaStream_t stream) {
  using namespace detail;
  if (w.codes == nullptr) {
    fail_streamed("dequantize_rows_f16: the ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols,
                  "] is not on the GPU (upload_weight first)");
  }
  if (row_begin < 0 || n_rows < 0 || row_begin + n_rows > w.rows || stride < w.cols) {
    fail_streamed("dequantize_rows_f16 on a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "]: rows [",
                  row_begin, ", ", row_begin + n_rows, ") with row stride ", stride, " do not fit it");
  }
  if (n_rows == 0) return;
  constexpr int kBlock = 256;
  if (w.layout == GemvLayout::mma_tiles) {
    GemvArgs a = make_gemv_args(w.codes, w.code_row_bytes, w.scales, w.scale_row_bytes, w.rows, w.cols, w.cols_padded,
                                gemv_chunk_elems(w.dtype), nullptr, nullptr);
    const bool tiled = visit_mma_format(w.dtype, [&](auto format) {
      using F = decltype(format);
      a.n_super = w.cols_padded / F::kTileCols;
      const std::int64_t tr0 = row_begin / kMmaTileRows, tr1 = (row_begin + n_rows - 1) / kMmaTileRows + 1;
      constexpr int kBlockTiles = kDequantWarps * kDequantTilesPerWarp;
      const dim3 grid(static_cast<unsigned>((a.n_super + kBlockTiles - 1) / kBlockTiles),
                      static_cast<unsigned>(tr1 - tr0));
      dequantize_mma_f16_kernel<F><<<grid, 32 * kDequantWarps, 0, stream>>>(a, tr0, row_begin, n_rows, stride,
                                                                            apply_row_scales, static_cast<__half*>(out));
    });
    if (!tiled) fail_streamed("dequantize_rows_f16: internal error: a ", dtype_name(w.dtype), " weight in the tensor-core layout");
    EAQ_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const int chunk_elems = gemv_chunk_elems(w.dtype);
  const GemvArgs a = make_gemv_args(w.codes, w.code_row_bytes, w.scales, w.scale_row_bytes, w.rows, w.cols,
                                    w.cols_padded, chunk_elems, nullptr, nullptr);
  const std::int64_t threads = n_rows * (a.n_super * 32);
  const auto blocks = static_cast<unsigned>((threads + kBlock - 1) / kBlock);
  const bool known = visit_gemv_format(w.dtype, [&](auto format) {
    dequantize_f16_kernel<decltype(format)><<<blocks, kBlock, 0, stream>>>(a, row_begin, n_rows, stride,
                                                                           apply_row_scales, static_cast<__half*>(out));
  });
  if (!known) {
    fail_streamed("dequantize_rows_f16: no CUDA decoder for ", dtype_name(w.dtype), " weights");
  }
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
