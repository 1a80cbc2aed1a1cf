// The ceilings of bench_engine_cuda (engine_ceilings.h).
#include "engine_ceilings.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

#include "core/dtype.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/half_gemm.h"

namespace eaq::bench {

double elapsed_s(cudaEvent_t a, cudaEvent_t b) {
  float ms = 0.0f;
  EAQ_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms / 1000.0;
}

double measure_copy_bandwidth_gbs() {
  const std::size_t bytes = std::size_t{1} << 31;
  void *a = nullptr, *b = nullptr;
  EAQ_CUDA_CHECK(cudaMalloc(&a, bytes));
  EAQ_CUDA_CHECK(cudaMalloc(&b, bytes));
  EAQ_CUDA_CHECK(cudaMemset(a, 1, bytes));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  EAQ_CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
  const int reps = 10;
  cudaEventRecord(e0);
  for (int i = 0; i < reps; ++i) EAQ_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice));
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  const double s = elapsed_s(e0, e1);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) * reps / s / 1e9;
}

double measure_gemm_s(std::int64_t m, std::int64_t n, std::int64_t k, bool engine_gemm) {
  cublasHandle_t handle;
  EAQ_CUBLAS_CHECK(cublasCreate(&handle));
  // The engine's cuBLAS workspace (EAQ_CUDA_CUBLAS_WORKSPACE_MIB), so the peak is measured as the
  // prefill runs.
  void* workspace = nullptr;
  const std::size_t workspace_bytes = kernels::cuda::cublas_workspace_bytes_requested();
  if (workspace_bytes > 0) {
    EAQ_CUDA_CHECK(cudaMalloc(&workspace, workspace_bytes));
    EAQ_CUBLAS_CHECK(cublasSetWorkspace(handle, workspace, workspace_bytes));
  }
  kernels::cuda::HalfGemm tuned(nullptr, workspace, workspace_bytes);
  void *w = nullptr, *x = nullptr;
  float* y = nullptr;
  EAQ_CUDA_CHECK(cudaMalloc(&w, static_cast<std::size_t>(n * k) * 2));
  EAQ_CUDA_CHECK(cudaMalloc(&x, static_cast<std::size_t>(m * k) * 2));
  EAQ_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&y), static_cast<std::size_t>(m * n) * 4));
  EAQ_CUDA_CHECK(cudaMemset(w, 0x11, static_cast<std::size_t>(n * k) * 2));  // small finite f16 values
  EAQ_CUDA_CHECK(cudaMemset(x, 0x11, static_cast<std::size_t>(m * k) * 2));
  auto call = [&] {
    if (engine_gemm) {
      tuned.run(DType::F16, w, n, k, k, x, m, y, n);
    } else {
      kernels::cuda::gemm_half(handle, DType::F16, w, n, k, k, x, m, y, n);
    }
  };
  call();  // the tuning, for engine_gemm
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  const int reps = 20;
  cudaEventRecord(e0);
  for (int i = 0; i < reps; ++i) call();
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  const double s = elapsed_s(e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaFree(w);
  cudaFree(x);
  cudaFree(y);
  cublasDestroy(handle);
  cudaFree(workspace);
  return s / reps;
}

double measure_gemm_tflops(std::int64_t m, std::int64_t n, std::int64_t k, bool engine_gemm) {
  return 2.0 * static_cast<double>(m) * n * k / measure_gemm_s(m, n, k, engine_gemm) / 1e12;
}

double measure_projection_gemms_s(const Shape& s, std::int64_t prompt) {
  double per_layer = 0.0;
  for (const ProjectionGemm& g : projection_gemms(s)) per_layer += measure_gemm_s(prompt, g.n, g.k, true);
  return per_layer * static_cast<double>(s.layers);
}

}  // namespace eaq::bench
