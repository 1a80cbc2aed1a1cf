// pdl_enabled() (kernels/cuda/pdl.cuh): whether the current device takes programmatic dependent
// launches, asked once per device.
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

bool pdl_enabled() {
  static const bool turned_off = [] {
    const char* v = std::getenv("EAQ_CUDA_PDL");
    return v != nullptr && std::strcmp(v, "0") == 0;
  }();
  if (turned_off) return false;
  constexpr int kMaxDevices = 64;
  static std::array<std::atomic<int>, kMaxDevices> state{};  // 0 unknown, 1 yes, 2 no
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return false;
  int s = state[static_cast<std::size_t>(device)].load(std::memory_order_relaxed);
  if (s == 0) {
    int major = 0;
    const bool known = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess;
    s = known && major >= 9 ? 1 : 2;
    state[static_cast<std::size_t>(device)].store(s, std::memory_order_relaxed);
  }
  return s == 1;
}

}  // namespace eaq::kernels::cuda
