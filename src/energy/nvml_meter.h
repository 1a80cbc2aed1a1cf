// NvmlMeter: energy of every NVIDIA GPU through NVML. Uses the GPU's energy counter where it has
// one (Volta and newer), else integrates power polled on a sampling thread (trapezoid). One
// sampling thread per GPU polls power (~3 us a call) every sample interval; it never runs on the
// caller's thread, so it never blocks the measured work.
//
// Counter granularity: NVML's energy counter changes every 100 ms and one read costs ~3.8 ms (H100,
// driver 580). A plain counter difference is therefore off by up to 100 ms of power at each end.
// energy_at(t) removes that error: the GPU's thread reads the counter back to back from t until it
// changes (the next update, at time u > t), and returns counter(u) minus the integral of the power
// samples over [t, u]. The caller does not wait for this unless it asks for the value.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy/meter.h"

namespace eaq::energy {

class NvmlLibrary;

enum class NvmlMode {
  automatic,  // the energy counter where the GPU has one, else sampled power
  sampled,    // sampled power on every GPU (to compare with the counter)
};

struct NvmlMeterOptions {
  std::string library_path;        // empty: $EAQ_NVML_LIBRARY or libnvidia-ml.so.1
  double sample_interval_s = 0.01;  // power polling period
  NvmlMode mode = NvmlMode::automatic;
  // Longest wait for the counter to change after a requested moment; past it the last counter
  // value is used as is (and a warning logged).
  double tick_timeout_s = 0.5;
};

struct GpuInfo {
  int index = 0;
  std::string name;
  bool energy_counter = false;  // nvmlDeviceGetTotalEnergyConsumption supported
  Source source = Source::sampled;
  std::optional<double> power_limit_w;
  std::optional<double> power_w;
  std::optional<unsigned> sm_clock_mhz;
  std::optional<unsigned> memory_clock_mhz;
  std::optional<unsigned> temperature_c;
  std::optional<unsigned long long> memory_total_bytes;
  std::optional<unsigned long long> memory_used_bytes;
};

class NvmlMeter final : public Meter {
 public:
  // Throws eaq::Error when NVML cannot be loaded or started, or when it sees no GPU.
  explicit NvmlMeter(NvmlMeterOptions options = {});
  ~NvmlMeter() override;

  std::string name() const override { return "nvml"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  double update_period_s() const override;
  PendingEnergies energy_at(double time_s) override;
  std::vector<double> power_w() override;

  const std::string& driver_version() const { return driver_version_; }
  const std::string& library_path() const;
  // Name, limits and the current clocks, temperature and memory of every GPU (a few driver calls).
  std::vector<GpuInfo> gpu_info();

  // NVIDIA's documented update period of the energy counter (and measured on an H100).
  static constexpr double kCounterUpdatePeriodS = 0.1;

 private:
  class GpuSampler;
  std::shared_ptr<NvmlLibrary> library_;
  std::vector<std::unique_ptr<GpuSampler>> samplers_;
  std::vector<DomainInfo> domains_;
  std::string driver_version_;
};

}  // namespace eaq::energy
