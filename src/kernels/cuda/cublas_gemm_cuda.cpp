// gemm_half: row-major y = x W^T expressed as cuBLAS's column-major y^T = W x^T.
#include "kernels/cuda/cublas_gemm.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/env_mib.h"

namespace eaq::kernels::cuda {

void gemm_half(cublasHandle_t handle, DType dtype, const void* w, std::int64_t rows, std::int64_t cols,
               std::int64_t w_stride, const void* x, std::int64_t n_tokens, float* y, std::int64_t y_stride,
               bool accumulate) {
  EAQ_CHECK(dtype == DType::F16 || dtype == DType::BF16, "gemm_half takes f16 or bf16");
  const cudaDataType_t type = dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  EAQ_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(n_tokens),
                                static_cast<int>(cols), &alpha, w, type, static_cast<int>(w_stride), x, type,
                                static_cast<int>(cols), &beta, y, CUDA_R_32F, static_cast<int>(y_stride),
                                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

std::size_t cublas_workspace_bytes_requested() {
  return static_cast<std::size_t>(env_mib("EAQ_CUDA_CUBLAS_WORKSPACE_MIB", 1024, "cuBLAS's default pool").value_or(0)) << 20;
}

}  // namespace eaq::kernels::cuda
