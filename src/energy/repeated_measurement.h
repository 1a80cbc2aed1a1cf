// Measuring short workloads and warming the hardware up.
//
// measure_repeated: a workload shorter than the counter's granularity (one decode step is a few
// ms; the NVML counter changes every 100 ms) is repeated inside one window until the window spans
// at least min_counter_updates updates; energy per run = window energy / repetitions.
//
// warm_up: GPUs draw less power cold than at their steady temperature; runs the workload until
// the mean power of consecutive ~1 s chunks is stable, so later measurements are not biased.
#pragma once

#include <functional>
#include <vector>

#include "energy/energy_window.h"

namespace eaq::energy {

struct RepeatOptions {
  int min_counter_updates = 20;
  double min_duration_s = 0.5;  // when every meter is continuous (RAPL, estimates)
  long max_repetitions = 1'000'000;
};

struct RepeatedMeasurement {
  WindowResult window;                      // the whole window (repetitions inside)
  std::vector<EnergyReading> per_repetition;  // every figure divided by window.repetitions
  double seconds_per_repetition = 0;
};

// Runs `workload` once untimed (to size the window), then inside one window of `windows` named
// `name` as many times as the sizing says, and more while the window is still short of the target.
RepeatedMeasurement measure_repeated(EnergyWindows& windows, const std::string& name,
                                     const std::function<void()>& workload, const RepeatOptions& options = {});

struct WarmUpOptions {
  double chunk_s = 1.0;
  double tolerance = 0.03;  // the last stable_chunks chunk powers lie within +-3% of their mean
  int stable_chunks = 3;
  double max_duration_s = 60;
};

struct WarmUpResult {
  bool stable = false;
  long runs = 0;
  double duration_s = 0;
  std::vector<double> chunk_power_w;  // total power of each chunk (in_total domains)
};

WarmUpResult warm_up(MeterSet& meters, const std::function<void()>& workload, const DeviceSync& sync = {},
                     const WarmUpOptions& options = {});

// True when the last `count` values lie within +-tolerance (relative) of their mean.
bool is_stable(const std::vector<double>& values, int count, double tolerance);

}  // namespace eaq::energy
