// Probing and selecting CUDA devices; the device-side errors users can act on.
#include "kernels/cuda/cuda_device.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <array>
#include <atomic>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace eaq::kernels::cuda {

void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
  throw Error(fmt::format("CUDA error {} ({}) in {} at {}:{}", cudaGetErrorName(error), cudaGetErrorString(error),
                          call, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(fmt::format("cuBLAS error {} ({}) in {} at {}:{}", cublasGetStatusName(status),
                          cublasGetStatusString(status), call, file, line));
}

std::string cuda_version_string(int version) {
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

CudaProbe probe_cuda() {
  CudaProbe probe;
  cudaRuntimeGetVersion(&probe.runtime_version);
  if (cudaDriverGetVersion(&probe.driver_version) != cudaSuccess || probe.driver_version == 0) {
    probe.driver_version = 0;
    probe.reason = "no NVIDIA driver found (libcuda.so could not be loaded)";
    return probe;
  }
  if (probe.driver_version < probe.runtime_version) {
    probe.reason = fmt::format("the NVIDIA driver supports CUDA {} but eaq was built with CUDA {}: update the driver",
                               cuda_version_string(probe.driver_version), cuda_version_string(probe.runtime_version));
    return probe;
  }
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    probe.reason = fmt::format("the CUDA runtime found no usable GPU: {} ({})", cudaGetErrorName(status),
                               cudaGetErrorString(status));
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return probe;
  }
  if (count == 0) {
    probe.reason = "the NVIDIA driver is loaded but sees no GPU";
    return probe;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    CudaDeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_bytes = prop.totalGlobalMem;
    info.memory_bus_bits = prop.memoryBusWidth;
    info.l2_bytes = prop.l2CacheSize;
    int previous = 0;
    cudaGetDevice(&previous);
    if (cudaSetDevice(i) == cudaSuccess) {
      std::size_t free_bytes = 0, total_bytes = 0;
      if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info.free_bytes = free_bytes;
      cudaSetDevice(previous);
    }
    probe.devices.push_back(info);
  }
  cudaGetLastError();
  probe.usable = !probe.devices.empty();
  if (!probe.usable) probe.reason = "no GPU answered cudaGetDeviceProperties";
  return probe;
}

CudaDeviceInfo select_cuda_device(int index) {
  CudaProbe probe = probe_cuda();
  if (!probe.usable) fail("--device cuda:{} cannot be used: {}", index, probe.reason);
  if (index < 0 || index >= static_cast<int>(probe.devices.size())) {
    fail("--device cuda:{} is out of range: this machine has {} CUDA device(s) (cuda:0 to cuda:{}); see `eaq hw`",
         index, probe.devices.size(), probe.devices.size() - 1);
  }
  const CudaDeviceInfo& info = probe.devices[static_cast<std::size_t>(index)];
  if (info.compute_major < 8) {
    fail("--device cuda:{} ({}) has compute capability {}.{}; eaq's CUDA backend needs 8.0 (Ampere) or newer",
         index, info.name, info.compute_major, info.compute_minor);
  }
  EAQ_CUDA_CHECK(cudaSetDevice(index));
  return info;
}

void* device_alloc(std::size_t bytes, const char* what) {
  void* pointer = nullptr;
  if (bytes == 0) return nullptr;
  cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    int device = 0;
    cudaGetDevice(&device);
    if (status == cudaErrorMemoryAllocation) {
      fail("out of GPU memory on cuda:{}: {} needs {:.2f} GiB but only {:.2f} GiB of {:.2f} GiB are free; use a "
           "smaller precision (--weights), a smaller --ctx, or another GPU",
           device, what, bytes / 1073741824.0, free_bytes / 1073741824.0, total_bytes / 1073741824.0);
    }
    fail("cudaMalloc of {} bytes for {} failed on cuda:{}: {} ({})", bytes, what, device, cudaGetErrorName(status),
         cudaGetErrorString(status));
  }
  return pointer;
}

void device_free(void* pointer) {
  if (pointer != nullptr) cudaFree(pointer);
}

CopyBandwidth measure_copy_bandwidth(int index, std::size_t bytes, int repetitions) {
  select_cuda_device(index);
  void* a = device_alloc(bytes, "the copy-bandwidth source buffer");
  void* b = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  auto release = [&] {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    device_free(b);
    device_free(a);
  };
  CopyBandwidth out;
  out.bytes = bytes;
  out.repetitions = repetitions;
  try {
    b = device_alloc(bytes, "the copy-bandwidth destination buffer");
    EAQ_CUDA_CHECK(cudaEventCreate(&start));
    EAQ_CUDA_CHECK(cudaEventCreate(&stop));
    EAQ_CUDA_CHECK(cudaMemset(a, 1, bytes));
    EAQ_CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));  // untimed: first touch
    float best_ms = 0;
    for (int r = 0; r < repetitions; ++r) {
      EAQ_CUDA_CHECK(cudaEventRecord(start));
      EAQ_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice));
      EAQ_CUDA_CHECK(cudaEventRecord(stop));
      EAQ_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      EAQ_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      if (r == 0 || ms < best_ms) best_ms = ms;
    }
    out.bytes_per_s = best_ms > 0 ? 2.0 * static_cast<double>(bytes) / (best_ms / 1000.0) : 0;
  } catch (...) {
    release();
    throw;
  }
  release();
  return out;
}

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

}  // namespace eaq::kernels::cuda
