// The prefill GEMM through cuBLAS: 16-bit weights and activations, f32 accumulation and output.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "core/dtype.h"

namespace eaq::kernels::cuda {

// y[t][n] = sum_k x[t][k] * W[n][k] for t < n_tokens, n < rows, with W f16 or bf16 (`dtype`,
// row stride w_stride elements) and x the same dtype [n_tokens][cols]; y row t starts at
// y + t * y_stride (so several matrices can write side by side into one output row).
// accumulate: y += instead of y = .
void gemm_half(cublasHandle_t handle, DType dtype, const void* w, std::int64_t rows, std::int64_t cols,
               std::int64_t w_stride, const void* x, std::int64_t n_tokens, float* y, std::int64_t y_stride,
               bool accumulate = false);

}  // namespace eaq::kernels::cuda
