// pdl_enabled() and compute_capability_major() (kernels/cuda/pdl.cuh): what the current device
// takes, asked once per device.
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

int compute_capability_major() {
  constexpr int kMaxDevices = 64;
  static std::array<std::atomic<int>, kMaxDevices> major_plus_one{};  // 0: not asked yet
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return 0;
  int m = major_plus_one[static_cast<std::size_t>(device)].load(std::memory_order_relaxed);
  if (m == 0) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) major = 0;
    m = major + 1;
    major_plus_one[static_cast<std::size_t>(device)].store(m, std::memory_order_relaxed);
  }
  return m - 1;
}

bool pdl_enabled() {
  static const bool turned_off = [] {
    const char* v = std::getenv("EAQ_CUDA_PDL");
    return v != nullptr && std::strcmp(v, "0") == 0;
  }();
  return !turned_off && compute_capability_major() >= 9;
}

}  // namespace eaq::kernels::cuda
