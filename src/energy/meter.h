// The Meter interface: cumulative energy per domain (gpu:N, cpu-package:N, dram:N, ...) with the
// way each figure was obtained. One class per kind of meter (NVML, RAPL, CPU estimate) sits
// behind it; windows (energy_window.h) turn two readings into energy over an interval.
//
// Public API for other modules, in brief:
//   auto meters = energy::MeterSet::detect(options);        // meter_set.h: usable meters + reasons
//   auto idle = energy::measure_idle_baseline(meters, 5.0); // energy_window.h
//   energy::EnergyWindows windows(meters, sync, idle);      // named, nestable
//   windows.begin("decode"); ...; WindowResult r = windows.end("decode");
//   r.readings[i] -> EnergyReading{domain, source, energy_j, idle_energy_j, net_energy_j, ...}
//   energy::ci95(samples) (energy_statistics.h); carbon::grams_co2e(energy_j, options) (carbon.h)
#pragma once

#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::energy {

// How a figure was obtained. counter: a hardware energy counter (NVML total energy, RAPL);
// sampled: power readings integrated over time (trapezoid); estimated: a model (TDP x utilisation).
enum class Source { counter, sampled, estimated };

std::string_view to_string(Source source);

// Seconds on the monotonic clock shared by all meters and windows.
inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct DomainInfo {
  std::string domain;  // "gpu:0", "cpu-package:0", "dram:0", "cpu-core:0", "cpu", "dram"
  Source source = Source::counter;
  // False for zones contained in another one (RAPL core/uncore lie inside the package): they are
  // reported but not added to totals.
  bool in_total = true;
};

// Cumulative energy of one domain since the meter started.
struct DomainEnergy {
  double energy_j = 0;
  // For counter domains that also integrate their power samples: the sampled cumulative energy
  // at the same moment, so windows can report how far the two methods agree. NaN when absent.
  double sampled_energy_j = std::numeric_limits<double>::quiet_NaN();
};

// A cumulative reading, one entry per domain in the order of Meter::domains().
struct MeterReading {
  double time_s = 0;
  std::vector<DomainEnergy> energies;
};

// A reading at a given moment that a meter's sampler thread may still be resolving (the NVML
// counter only changes every 100 ms, so the exact value at a moment is known after the next tick).
using PendingEnergies = std::shared_future<std::vector<DomainEnergy>>;

class Meter {
 public:
  virtual ~Meter() = default;

  virtual std::string name() const = 0;  // "nvml", "rapl", "cpu-estimate"
  virtual const std::vector<DomainInfo>& domains() const = 0;

  // How often the underlying counter changes (0.1 s for the NVML energy counter); windows shorter
  // than a few periods are warned about. 0 when the figure is continuous.
  virtual double update_period_s() const = 0;

  // Cumulative energy per domain at `time_s` (now, or a moment just passed). Never blocks: the
  // value is resolved by the meter's own thread where that needs waiting. Take it with .get().
  virtual PendingEnergies energy_at(double time_s) = 0;

  // The latest power per domain in watts, same order as domains(); cheap (no driver call).
  virtual std::vector<double> power_w() = 0;

  // Convenience: a reading now, waiting for it.
  MeterReading read();
};

// A PendingEnergies that is already resolved.
PendingEnergies ready_energies(std::vector<DomainEnergy> energies);

}  // namespace eaq::energy
