// What the CUDA workbenches (bench_gemv, bench_half_matvec, bench_attention_decode,
// bench_attention_prefill) share:
// failing on a CUDA error with the program's name, the median of timings, and the device-to-device
// copy bandwidth they print their kernels' bandwidth beside.
#pragma once

#include <cuda_runtime.h>

#include <errno.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace eaq::workbench {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s failed: %s\n", program_invocation_short_name, what, cudaGetErrorString(e));
    std::exit(1);
  }
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Device-to-device copy of 1 GiB: bytes read + bytes written over the median of 20 copies.
inline double measure_copy_bytes_per_s() {
  const std::size_t bytes = std::size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  check(cudaMalloc(&a, bytes), "cudaMalloc copy source");
  check(cudaMalloc(&b, bytes), "cudaMalloc copy destination");
  check(cudaMemset(a, 1, bytes), "cudaMemset");
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<double> s;
  for (int i = 0; i < 23; ++i) {
    cudaEventRecord(e0);
    check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync");
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    if (i >= 3) s.push_back(ms * 1e-3);
  }
  cudaFree(a);
  cudaFree(b);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return 2.0 * static_cast<double>(bytes) / median(s);
}

}  // namespace eaq::workbench
