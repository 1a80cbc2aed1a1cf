// EAQ_CUDA_CHECK / EAQ_CUBLAS_CHECK: turn a failed CUDA runtime or cuBLAS call into an eaq::Error
// that names the call, the file and line, and the runtime's own message. Out-of-memory gets its
// own wording (how much the device has free) because it is the error users can act on.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"

namespace eaq::kernels::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);

}  // namespace eaq::kernels::cuda

#define EAQ_CUDA_CHECK(call)                                                                  \
  do {                                                                                        \
    cudaError_t eaq_cuda_status_ = (call);                                                    \
    if (eaq_cuda_status_ != cudaSuccess) {                                                    \
      ::eaq::kernels::cuda::throw_cuda_error(eaq_cuda_status_, #call, __FILE__, __LINE__);    \
    }                                                                                         \
  } while (0)

#define EAQ_CUBLAS_CHECK(call)                                                                \
  do {                                                                                        \
    cublasStatus_t eaq_cublas_status_ = (call);                                               \
    if (eaq_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                        \
      ::eaq::kernels::cuda::throw_cublas_error(eaq_cublas_status_, #call, __FILE__, __LINE__); \
    }                                                                                         \
  } while (0)
