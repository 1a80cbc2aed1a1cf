// The prefill GEMM through cuBLAS: 16-bit weights and activations, f32 accumulation and output.
#pragma once

#include <cublas_v2.h>

#include <cstddef>
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

// The workspace EAQ_CUDA_CUBLAS_WORKSPACE_MIB asks cuBLAS to use, in bytes (whole MiB, 1 to 1024);
// 0 when unset: cuBLAS's own default pool. NVIDIA's cuBLAS guide recommends 32 MiB on Hopper;
// an A/B for the prefill GEMMs (written without a GPU, 2026-12-05). Throws eaq::Error naming a
// bad value.
std::size_t cublas_workspace_bytes_requested();

}  // namespace eaq::kernels::cuda
