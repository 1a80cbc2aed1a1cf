// pdl_enabled(), compute_capability_major() and multiprocessor_count() (kernels/cuda/pdl.cuh):
// what the current device takes, asked once per device.
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

// The current device's compute capability major version and SM count, asked once per device
// (both at once: the first ask comes from a launch outside any graph capture, e.g. a prefill's,
// so later asks during a capture read the cache only).
struct DeviceFacts {
  int major = 0;
  int multiprocessors = 0;
};

DeviceFacts device_facts() {
  constexpr int kMaxDevices = 64;
  static std::array<std::atomic<int>, kMaxDevices> major_plus_one{};  // 0: not asked yet
  static std::array<std::atomic<int>, kMaxDevices> sms{};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return {};
  const auto d = static_cast<std::size_t>(device);
  int m = major_plus_one[d].load(std::memory_order_acquire);
  if (m == 0) {
    int major = 0, count = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) major = 0;
    if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) count = 0;
    sms[d].store(count, std::memory_order_relaxed);
    m = major + 1;
    major_plus_one[d].store(m, std::memory_order_release);
  }
  return {m - 1, sms[d].load(std::memory_order_relaxed)};
}

}  // namespace

int compute_capability_major() { return device_facts().major; }

int multiprocessor_count() { return device_facts().multiprocessors; }

bool pdl_enabled() {
  static const bool turned_off = [] {
    const char* v = std::getenv("EAQ_CUDA_PDL");
    return v != nullptr && std::strcmp(v, "0") == 0;
  }();
  return !turned_off && compute_capability_major() >= 9;
}

}  // namespace eaq::kernels::cuda
