// NvmlLibrary: libnvidia-ml opened at run time with dlopen, so one eaq binary runs with or without
// an NVIDIA driver. Only the functions eaq uses are declared here (from NVML's public nvml.h);
// vendor error codes become eaq::Error messages that name the call and say what to do.
//
// The library path: the constructor argument, else $EAQ_NVML_LIBRARY, else "libnvidia-ml.so.1".
// Tests load a test-double NVML (tests/fakes/fake_nvml.c) through this same path.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace eaq::energy {

// The subset of nvml.h that eaq calls (types and values as published by NVIDIA).
namespace nvml {
using Return = int;
using Device = struct DeviceOpaque*;
constexpr Return kSuccess = 0;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorNoPermission = 4;
constexpr int kClockGraphics = 0;
constexpr int kClockSm = 1;
constexpr int kClockMem = 2;
constexpr int kTemperatureGpu = 0;
struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
}  // namespace nvml

class NvmlLibrary {
 public:
  // Opens and initialises NVML. Throws eaq::Error (with the reason: library missing, driver not
  // loaded, version mismatch, ...) when NVML cannot be used.
  explicit NvmlLibrary(std::string path = {});
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  const std::string& path() const { return path_; }

  int device_count();
  nvml::Device device(int index);
  std::string device_name(nvml::Device device);
  std::string driver_version();

  // Energy since the driver loaded, in millijoules; nullopt when the GPU has no counter
  // (before Volta). Throws for any other failure. ~3.8 ms per call on an H100.
  std::optional<unsigned long long> total_energy_mj(nvml::Device device);
  // Power in milliwatts (~3 us per call). On Ampere (except GA100) and newer NVIDIA documents
  // this as an average over the last second, on older GPUs as instantaneous.
  std::optional<unsigned int> power_mw(nvml::Device device);
  std::optional<unsigned int> enforced_power_limit_mw(nvml::Device device);
  std::optional<unsigned int> clock_mhz(nvml::Device device, int clock_type);
  std::optional<unsigned int> temperature_c(nvml::Device device);
  std::optional<nvml::Memory> memory(nvml::Device device);

  // NVML's own text for a return code.
  std::string error_string(nvml::Return code);

 private:
  struct Functions;
  [[noreturn]] void fail_call(const char* function, nvml::Return code);
  // Returns true on success, false on NOT_SUPPORTED; throws on anything else.
  bool check_optional(const char* function, nvml::Return code);

  std::string path_;
  void* handle_ = nullptr;
  std::unique_ptr<Functions> fn_;
  bool initialised_ = false;
};

}  // namespace eaq::energy
