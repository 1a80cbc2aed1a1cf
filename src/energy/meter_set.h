// MeterSet: every meter usable on this machine, chosen once per run, with the reason for each
// choice (used or not) so reports can say what was measured and what was estimated.
//
//   energy::MeterOptions options;            // defaults: NVML if present, RAPL if readable,
//   auto meters = energy::MeterSet::detect(options);  // else the CPU estimate
//   for (auto& d : meters.decisions()) fmt::print("{}: {} ({})\n", d.meter, d.used, d.reason);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "energy/cpu_estimate_meter.h"
#include "energy/meter.h"
#include "energy/nvml_meter.h"
#include "energy/rapl_meter.h"

namespace eaq::energy {

struct MeterOptions {
  bool gpu = true;  // try NVML
  bool cpu = true;  // RAPL, else the CPU estimate
  bool force_cpu_estimate = false;
  NvmlMeterOptions nvml;
  RaplOptions rapl;
  CpuEstimateOptions cpu_estimate;
  // One sampling interval for all meters (power polling); overrides the per-meter ones if > 0.
  double sample_interval_s = 0;
};

struct MeterDecision {
  std::string meter;  // "nvml", "rapl", "cpu-estimate"
  bool used = false;
  std::string reason;
};

class MeterSet {
 public:
  // Never throws for a missing meter: it records why and falls back.
  static MeterSet detect(const MeterOptions& options);

  MeterSet() = default;
  MeterSet(MeterSet&&) = default;
  MeterSet& operator=(MeterSet&&) = default;

  // Meters added by hand (tests, or a caller with its own meter).
  void add(std::unique_ptr<Meter> meter, std::string reason);

  const std::vector<std::unique_ptr<Meter>>& meters() const { return meters_; }
  const std::vector<MeterDecision>& decisions() const { return decisions_; }
  bool empty() const { return meters_.empty(); }

  NvmlMeter* nvml() const;  // null when NVML is not used
  // The coarsest counter update period among the meters (0 if all are continuous).
  double update_period_s() const;

 private:
  std::vector<std::unique_ptr<Meter>> meters_;
  std::vector<MeterDecision> decisions_;
};

}  // namespace eaq::energy
