// MeterSet: detection of NVML, RAPL and the CPU estimate, with fallbacks and reasons.
#include "energy/meter_set.h"

#include <algorithm>

#include "core/error.h"

namespace eaq::energy {

MeterSet MeterSet::detect(const MeterOptions& options) {
  MeterSet set;
  if (options.gpu) {
    NvmlMeterOptions nvml = options.nvml;
    if (options.sample_interval_s > 0) nvml.sample_interval_s = options.sample_interval_s;
    try {
      auto meter = std::make_unique<NvmlMeter>(nvml);
      int counters = 0;
      for (const auto& domain : meter->domains()) counters += domain.source == Source::counter;
      const int gpus = static_cast<int>(meter->domains().size());
      std::string reason = fmt::format("{} GPU(s), driver {}: ", gpus, meter->driver_version());
      if (counters == gpus) {
        reason += "energy counter on every GPU, ends corrected with power samples";
      } else if (counters == 0) {
        reason += nvml.mode == NvmlMode::sampled
                      ? "power sampled (counter not used: sampled mode requested)"
                      : "no energy counter (GPU older than Volta): power sampled and integrated";
      } else {
        reason += fmt::format("energy counter on {} GPU(s), power sampled on the others", counters);
      }
      set.meters_.push_back(std::move(meter));
      set.decisions_.push_back({"nvml", true, reason});
    } catch (const Error& e) {
      set.decisions_.push_back({"nvml", false, e.what()});
    }
  } else {
    set.decisions_.push_back({"nvml", false, "GPU metering turned off"});
  }

  if (!options.cpu) {
    set.decisions_.push_back({"rapl", false, "CPU metering turned off"});
    return set;
  }
  std::string rapl_reason;
  if (options.force_cpu_estimate) {
    set.decisions_.push_back({"rapl", false, "not used: the CPU estimate was requested"});
  } else {
    RaplOptions rapl = options.rapl;
    try {
      auto meter = std::make_unique<RaplMeter>(rapl);
      std::string reason = fmt::format("{} zone(s):", meter->zones().size());
      for (const auto& zone : meter->zones()) reason += " " + zone.domain.domain;
      for (const auto& note : meter->notes()) reason += "; " + note;
      set.meters_.push_back(std::move(meter));
      set.decisions_.push_back({"rapl", true, reason});
      set.decisions_.push_back({"cpu-estimate", false, "not needed: RAPL measures the CPU"});
      return set;
    } catch (const Error& e) {
      rapl_reason = e.what();
      set.decisions_.push_back({"rapl", false, rapl_reason});
    }
  }
  CpuEstimateOptions estimate = options.cpu_estimate;
  if (options.sample_interval_s > 0) estimate.sample_interval_s = std::max(0.05, options.sample_interval_s);
  try {
    auto meter = std::make_unique<CpuEstimateMeter>(estimate);
    const CpuPowerModel& model = meter->model();
    std::string reason = fmt::format(
        "{}CPU energy estimated: {:.1f} W x ({:.2f} + {:.2f} x utilisation from /proc/stat) [{}]; "
        "DRAM {:.1f} GB x {:.3f} W/GB = {:.1f} W",
        options.force_cpu_estimate ? "" : "RAPL unavailable, so ", model.tdp_w, model.idle_fraction,
        1.0 - model.idle_fraction, model.tdp_basis, model.dram_gb, estimate.dram_w_per_gb, model.dram_w);
    set.meters_.push_back(std::move(meter));
    set.decisions_.push_back({"cpu-estimate", true, reason});
  } catch (const Error& e) {
    set.decisions_.push_back({"cpu-estimate", false, e.what()});
  }
  return set;
}

void MeterSet::add(std::unique_ptr<Meter> meter, std::string reason) {
  decisions_.push_back({meter->name(), true, std::move(reason)});
  meters_.push_back(std::move(meter));
}

NvmlMeter* MeterSet::nvml() const {
  for (const auto& meter : meters_) {
    if (auto* nvml = dynamic_cast<NvmlMeter*>(meter.get())) return nvml;
  }
  return nullptr;
}

double MeterSet::update_period_s() const {
  double period_s = 0;
  for (const auto& meter : meters_) period_s = std::max(period_s, meter->update_period_s());
  return period_s;
}

}  // namespace eaq::energy
