// Decode GEMV on the GPU: y[b][n] = sum_k x[b][k] * W[n][k] for a small batch (1..8) of f32
// activations against a weight matrix kept on the device in (a repack of) its packed eaq format.
// This is the contract between the weight-reading kernels (src/kernels/cuda/gemv*.cu,
// gpu_weight*.cu) and the CUDA model backend.
//
// Design: decode is memory-bound, so a kernel's only job is to stream the weight bytes once at HBM
// bandwidth. upload_weight() splits each format's blocks into a code array (16-byte aligned rows,
// one 16-byte load per lane per step) and a small scale array (per row or per group), without
// changing a single value: the GPU result equals the CPU kernels::matmul on the same packed bytes up
// to f32 summation order. Activations stay f32 and accumulation is f32 — except in the tensor-core
// layout (GemvLayout::mma_tiles), where each activation is split into two f16 parts (22 bits of
// mantissa, so the same result to ~1e-7 relative, but within f16's range: |x| < 65504).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gemv_epilogue.h"
#include "kernels/ops.h"

namespace eaq::kernels::cuda {

// The GPU layouts of a weight: 16-byte code chunks read by the CUDA-core kernel (gemv_kernel.cuh,
// every format), or 16x(32|64) tiles read by the tensor-core kernel (gemv_mma.cuh: i8_ch,
// i4s_g32/g64/g128, q4_0).
enum class GemvLayout { chunks, mma_tiles };
// Whether dtype has the tensor-core layout.
bool has_mma_layout(DType dtype);
// The layout upload_weight picks: mma_tiles for i4s_g32/g64/g128 and q4_0 (i8_ch's tensor-core
// kernel measured slower than its chunk kernel, so i8_ch takes mma_tiles only when asked:
// EAQ_CUDA_MMA_GEMV=all), unless EAQ_CUDA_MMA_GEMV=0 (every format in chunks; 1 or unset: the
// default). Throws eaq::Error for another value.
GemvLayout default_gemv_layout(DType dtype);

// A weight matrix W[rows][cols] resident on the GPU. Fields are set by upload_weight; the layout of
// `codes` and `scales` per dtype is described in gemv_formats.cuh (written by gpu_weight.cu). Owns its
// device memory (free_weight).
struct GpuWeight {
  DType dtype = DType::F16;   // the host dtype the values came from
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t cols_padded = 0;        // cols rounded up to the kernel's step (padding holds zeros)
  void* codes = nullptr;               // device: rows * code_row_bytes (mma_tiles: rows rounded up to 16)
  std::size_t code_row_bytes = 0;      // multiple of 16
  void* scales = nullptr;              // device: per-row or per-group scales (nullptr for F16/BF16)
  std::size_t scale_row_bytes = 0;     // bytes of scales per row (0 when per-row or none)
  std::size_t device_bytes = 0;        // codes + scales: the bytes one gemv call reads
  GemvLayout layout = GemvLayout::chunks;
};

// Whether gemv() handles weights of `dtype`: F16, BF16, I8_CH, F8_E4M3_CH, I4S_G32/G64/G128, Q8_0,
// Q4_0, NF4, Q4_K.
bool gemv_supports(DType dtype);

// Copies a host weight (kernels::WeightRef, row_stride_bytes respected) to the device once, in the
// GPU layout of its dtype. Synchronous on `stream` (host buffers may be freed on return). Throws
// eaq::Error for an unsupported dtype, a shape the kernels cannot take (F16/BF16/I8_CH/F8_E4M3_CH
// need cols % 8 == 0) or a failed allocation (names the bytes asked and the bytes free).
GpuWeight upload_weight(const WeightRef& host, cudaStream_t stream);
// The same in a given layout (mma_tiles only for has_mma_layout dtypes: else an eaq::Error).
GpuWeight upload_weight(const WeightRef& host, cudaStream_t stream, GemvLayout layout);
// Frees the device memory of w (no-op on an empty weight) and resets it.
void free_weight(GpuWeight& w);

// y[b][n] = sum_k x[b][k] * W[n][k] for b < batch (1..8). x is [batch][cols] and y [batch][rows],
// f32, on the device, x 16-byte aligned, x and y not overlapping. No allocation, no host sync:
// graph-capturable. Throws eaq::Error for batch outside 1..8 or a misaligned x (checked on the host
// before the launch).
void gemv(const GpuWeight& w, const float* x, int batch, float* y, cudaStream_t stream);
// The same with a bias and/or accumulation into y (GemvEpilogue: y = y + W x + bias), e.g. the
// residual add after o_proj / down_proj, or qwen2's q/k/v biases. bias is [rows] on the device.
void gemv(const GpuWeight& w, const float* x, int batch, float* y, cudaStream_t stream, const GemvEpilogue& epilogue);
// Whether gemv() takes GemvEpilogue::gate for w at `batch`: an even row count, and the chunk
// layout, or the tensor-core tiles where their cluster kernel runs (sm_90, batch 1-4, gate rows a
// multiple of 16; gemv_mma_cluster.cu).
bool gemv_supports_gate(const GpuWeight& w, int batch);

// Rows [row_begin, row_begin + n_rows) of w as dense f16 into out ([n_rows][stride], stride >=
// cols; padding columns untouched): the prefill GEMM's operand for packed formats (cuBLAS on the
// tensor cores, a slice of rows at a time). value = the GEMV's decoded code x its
// scales, rounded to f16 once; with apply_row_scales false the per-row scale (row_scales(w)) is
// left out, so int8 / fp8 codes stay exact and the caller scales the GEMM output (scale_columns).
// No allocation, no sync. Throws eaq::Error for rows outside w.
void dequantize_rows_f16(const GpuWeight& w, std::int64_t row_begin, std::int64_t n_rows, std::int64_t stride,
                         bool apply_row_scales, void* out, cudaStream_t stream);
// The per-output-row scales of w on the device (f32 [rows]: I8_CH, F8_E4M3_CH), else nullptr.
const float* row_scales(const GpuWeight& w);
// y[r][c] *= scales[c] for r < n_rows, c < n_cols (y row stride y_stride floats).
void scale_columns(float* y, std::int64_t y_stride, std::int64_t n_rows, const float* scales, std::int64_t n_cols,
                   cudaStream_t stream);

// The largest batch gemv() takes.
inline constexpr int kMaxGemvBatch = 8;

}  // namespace eaq::kernels::cuda
