// NvmlLibrary: dlopen + dlsym of the few NVML functions eaq uses, and error mapping.
#include "energy/nvml_library.h"

#include <dlfcn.h>

#include <cstdlib>

#include "core/error.h"

namespace eaq::energy {

struct NvmlLibrary::Functions {
  nvml::Return (*init_v2)() = nullptr;
  nvml::Return (*shutdown)() = nullptr;
  const char* (*error_string)(nvml::Return) = nullptr;
  nvml::Return (*device_get_count_v2)(unsigned int*) = nullptr;
  nvml::Return (*device_get_handle_by_index_v2)(unsigned int, nvml::Device*) = nullptr;
  nvml::Return (*device_get_name)(nvml::Device, char*, unsigned int) = nullptr;
  nvml::Return (*system_get_driver_version)(char*, unsigned int) = nullptr;
  nvml::Return (*device_get_total_energy_consumption)(nvml::Device, unsigned long long*) = nullptr;
  nvml::Return (*device_get_power_usage)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_get_enforced_power_limit)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_get_clock_info)(nvml::Device, int, unsigned int*) = nullptr;
  nvml::Return (*device_get_temperature)(nvml::Device, int, unsigned int*) = nullptr;
  nvml::Return (*device_get_memory_info)(nvml::Device, nvml::Memory*) = nullptr;
};

namespace {

// Not named bind: with std::string arguments an unqualified bind(...) also finds std::bind by
// argument-dependent lookup once <functional> is included, which returned a bind object and left
// every pointer null (seen when a precompiled header brought <functional> into this file).
template <typename F>
void bind_symbol(void* handle, const std::string& path, const char* symbol, F& out) {
  void* address = dlsym(handle, symbol);
  if (address == nullptr) {
    fail("NVML library {} lacks the function {}: the driver is too old for eaq. Update the NVIDIA "
         "driver, or run without GPU metering.", path, symbol);
  }
  out = reinterpret_cast<F>(address);
}

}  // namespace

NvmlLibrary::NvmlLibrary(std::string path) : path_(std::move(path)), fn_(std::make_unique<Functions>()) {
  if (path_.empty()) {
    const char* env = std::getenv("EAQ_NVML_LIBRARY");
    path_ = (env != nullptr && *env != '\0') ? env : "libnvidia-ml.so.1";
  }
  handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    fail("cannot load the NVIDIA management library {} ({}): no NVIDIA driver is installed here. "
         "GPU energy cannot be measured; install the driver or set EAQ_NVML_LIBRARY.",
         path_, why != nullptr ? why : "unknown reason");
  }
  try {
    bind_symbol(handle_, path_, "nvmlInit_v2", fn_->init_v2);
    bind_symbol(handle_, path_, "nvmlShutdown", fn_->shutdown);
    bind_symbol(handle_, path_, "nvmlErrorString", fn_->error_string);
    bind_symbol(handle_, path_, "nvmlDeviceGetCount_v2", fn_->device_get_count_v2);
    bind_symbol(handle_, path_, "nvmlDeviceGetHandleByIndex_v2", fn_->device_get_handle_by_index_v2);
    bind_symbol(handle_, path_, "nvmlDeviceGetName", fn_->device_get_name);
    bind_symbol(handle_, path_, "nvmlSystemGetDriverVersion", fn_->system_get_driver_version);
    bind_symbol(handle_, path_, "nvmlDeviceGetTotalEnergyConsumption", fn_->device_get_total_energy_consumption);
    bind_symbol(handle_, path_, "nvmlDeviceGetPowerUsage", fn_->device_get_power_usage);
    bind_symbol(handle_, path_, "nvmlDeviceGetEnforcedPowerLimit", fn_->device_get_enforced_power_limit);
    bind_symbol(handle_, path_, "nvmlDeviceGetClockInfo", fn_->device_get_clock_info);
    bind_symbol(handle_, path_, "nvmlDeviceGetTemperature", fn_->device_get_temperature);
    bind_symbol(handle_, path_, "nvmlDeviceGetMemoryInfo", fn_->device_get_memory_info);
    const nvml::Return code = fn_->init_v2();
    if (code != nvml::kSuccess) {
      fail("NVML could not start (nvmlInit_v2: {}, code {}) with {}: the NVIDIA driver is not "
           "loaded or does not match the library. Check `nvidia-smi`.",
           error_string(code), code, path_);
    }
    initialised_ = true;
  } catch (...) {
    dlclose(handle_);
    handle_ = nullptr;
    throw;
  }
}

NvmlLibrary::~NvmlLibrary() {
  if (initialised_) fn_->shutdown();
  if (handle_ != nullptr) dlclose(handle_);
}

std::string NvmlLibrary::error_string(nvml::Return code) {
  const char* text = fn_->error_string != nullptr ? fn_->error_string(code) : nullptr;
  return text != nullptr ? text : "unknown NVML error";
}

void NvmlLibrary::fail_call(const char* function, nvml::Return code) {
  if (code == nvml::kErrorNoPermission) {
    fail("NVML {} was refused: {} (code {}). Run eaq as a user allowed to query the GPU.",
         function, error_string(code), code);
  }
  fail("NVML {} failed: {} (code {}). Check the GPU with `nvidia-smi`.", function,
       error_string(code), code);
}

bool NvmlLibrary::check_optional(const char* function, nvml::Return code) {
  if (code == nvml::kSuccess) return true;
  if (code == nvml::kErrorNotSupported) return false;
  fail_call(function, code);
}

int NvmlLibrary::device_count() {
  unsigned int count = 0;
  const nvml::Return code = fn_->device_get_count_v2(&count);
  if (code != nvml::kSuccess) fail_call("nvmlDeviceGetCount_v2", code);
  return static_cast<int>(count);
}

nvml::Device NvmlLibrary::device(int index) {
  nvml::Device device = nullptr;
  const nvml::Return code = fn_->device_get_handle_by_index_v2(static_cast<unsigned int>(index), &device);
  if (code != nvml::kSuccess) fail_call("nvmlDeviceGetHandleByIndex_v2", code);
  return device;
}

std::string NvmlLibrary::device_name(nvml::Device device) {
  char name[96] = {};
  const nvml::Return code = fn_->device_get_name(device, name, sizeof(name));
  if (code != nvml::kSuccess) fail_call("nvmlDeviceGetName", code);
  name[sizeof(name) - 1] = '\0';
  return name;
}

std::string NvmlLibrary::driver_version() {
  char version[96] = {};
  const nvml::Return code = fn_->system_get_driver_version(version, sizeof(version));
  if (code != nvml::kSuccess) fail_call("nvmlSystemGetDriverVersion", code);
  version[sizeof(version) - 1] = '\0';
  return version;
}

std::optional<unsigned long long> NvmlLibrary::total_energy_mj(nvml::Device device) {
  unsigned long long energy_mj = 0;
  if (!check_optional("nvmlDeviceGetTotalEnergyConsumption",
                      fn_->device_get_total_energy_consumption(device, &energy_mj))) {
    return std::nullopt;
  }
  return energy_mj;
}

std::optional<unsigned int> NvmlLibrary::power_mw(nvml::Device device) {
  unsigned int power_mw = 0;
  if (!check_optional("nvmlDeviceGetPowerUsage", fn_->device_get_power_usage(device, &power_mw))) {
    return std::nullopt;
  }
  return power_mw;
}

std::optional<unsigned int> NvmlLibrary::enforced_power_limit_mw(nvml::Device device) {
  unsigned int limit_mw = 0;
  if (!check_optional("nvmlDeviceGetEnforcedPowerLimit",
                      fn_->device_get_enforced_power_limit(device, &limit_mw))) {
    return std::nullopt;
  }
  return limit_mw;
}

std::optional<unsigned int> NvmlLibrary::clock_mhz(nvml::Device device, int clock_type) {
  unsigned int mhz = 0;
  if (!check_optional("nvmlDeviceGetClockInfo", fn_->device_get_clock_info(device, clock_type, &mhz))) {
    return std::nullopt;
  }
  return mhz;
}

std::optional<unsigned int> NvmlLibrary::temperature_c(nvml::Device device) {
  unsigned int celsius = 0;
  if (!check_optional("nvmlDeviceGetTemperature",
                      fn_->device_get_temperature(device, nvml::kTemperatureGpu, &celsius))) {
    return std::nullopt;
  }
  return celsius;
}

std::optional<nvml::Memory> NvmlLibrary::memory(nvml::Device device) {
  nvml::Memory memory{};
  if (!check_optional("nvmlDeviceGetMemoryInfo", fn_->device_get_memory_info(device, &memory))) {
    return std::nullopt;
  }
  return memory;
}

}  // namespace eaq::energy
