// What the CUDA kernel tests share: whether a GPU is there, a device copy of a host vector, and
// a CPU kernel context for the reference ops.
#pragma once

#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstddef>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace eaq::kernels::test {

inline bool have_gpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

// A device copy of a host vector, freed with the object.
template <typename T>
struct Device {
  T* ptr = nullptr;
  std::size_t n = 0;
  explicit Device(const std::vector<T>& host) : n(host.size()) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&ptr), n * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Device() { cudaFree(ptr); }
  std::vector<T> get() const {
    std::vector<T> out(n);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(out.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return out;
  }
};

struct CpuContext {
  ThreadPool pool{2};
  KernelContext ctx{&pool};
};

}  // namespace eaq::kernels::test
