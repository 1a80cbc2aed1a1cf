// The CUDA devices eaq can run on: probing (for `eaq hw` and `eaq version`), selecting the one
// that --device cuda[:N] names, and device allocations whose failure says how much was asked
// and how much the device has free. Plain C++ types only, so host code includes it freely.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace eaq::kernels::cuda {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int multiprocessors = 0;
  std::size_t total_bytes = 0;
  std::size_t free_bytes = 0;
  int memory_bus_bits = 0;
  int l2_bytes = 0;
};

struct CudaProbe {
  bool usable = false;
  std::string reason;        // why not usable (no driver, no GPU, driver too old), else ""
  int driver_version = 0;    // e.g. 13000 for CUDA 13.0 (0 when no driver)
  int runtime_version = 0;   // the CUDA runtime eaq was built with
  std::vector<CudaDeviceInfo> devices;
};

// Never throws: says what it found and why the backend cannot run when it cannot.
CudaProbe probe_cuda();

// "13.0" from 13000.
std::string cuda_version_string(int version);

// Makes device `index` current for this thread; eaq::Error when there is no driver, no GPU, the
// driver is older than the runtime eaq was built with, or the index is out of range.
CudaDeviceInfo select_cuda_device(int index);

// cudaMalloc, with an eaq::Error on failure naming `what`, the bytes asked and the bytes free.
void* device_alloc(std::size_t bytes, const char* what);
void device_free(void* pointer);

// The bandwidth of GPU `index`'s memory as users reach it: a device-to-device copy of
// `bytes` (read + written bytes counted), best of `repetitions` timed with CUDA events, after
// one untimed copy. The decode roofline that eaq bench compares with. eaq::Error when the
// buffers cannot be allocated or a CUDA call fails.
struct CopyBandwidth {
  double bytes_per_s = 0;
  std::size_t bytes = 0;  // one buffer
  int repetitions = 0;
};
CopyBandwidth measure_copy_bandwidth(int index, std::size_t bytes, int repetitions);

// The current device's compute capability major version and SM count (0 if they cannot be
// asked), cached per device. The first ask comes from pdl_enabled() at a kernel launch before any
// graph capture, so asks while the decode graph is captured read the cache only.
int compute_capability_major();
int multiprocessor_count();

}  // namespace eaq::kernels::cuda
