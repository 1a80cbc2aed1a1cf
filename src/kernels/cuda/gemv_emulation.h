// The decode GEMV kernel's code run on the CPU: gemv_kernel.cuh's per-lane function (the same
// source, compiled for the host) over every warp and lane, the 32 lanes' sums added in the order of
// the kernel's shuffle tree. It checks the GPU layouts (pack_for_gpu), the decoders and the indexing
// on machines without a GPU (CI); the real kernel is checked on a GPU by gemv_cuda_test.cpp and
// benchmarks/cuda/bench_gemv.cu. Slow (scalar): for tests only.
#pragma once

#include <cstdint>

#include "kernels/cuda/gemv_epilogue.h"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

// y[b][n] = sum_k x[b][k] * W[n][k] (through the epilogue) for b < batch (1..8), all in host
// memory. Throws eaq::Error for a batch outside 1..8.
void gemv_on_host(const PackedGpuWeight& w, const float* x, int batch, float* y, const GemvEpilogue& epilogue = {});

// dequantize_rows_f16 (cuda_gemv.h) on the CPU: the kernel's per-chunk code (dequantize_chunk.cuh)
// over rows [row_begin, row_begin + n_rows) into out ([n_rows][stride] f16 bits). Throws
// eaq::Error for rows outside w.
void dequantize_rows_f16_on_host(const PackedGpuWeight& w, std::int64_t row_begin, std::int64_t n_rows,
                                 std::int64_t stride, bool apply_row_scales, std::uint16_t* out);

}  // namespace eaq::kernels::cuda
