// measure_repeated and warm_up.
#include "energy/repeated_measurement.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "core/error.h"

namespace eaq::energy {

RepeatedMeasurement measure_repeated(EnergyWindows& windows, const std::string& name,
                                     const std::function<void()>& workload, const RepeatOptions& options) {
  if (options.min_counter_updates < 1) fail("min_counter_updates must be >= 1");
  const DeviceSync& sync = windows.sync();
  if (sync) sync();
  const double start_s = now_s();
  workload();
  if (sync) sync();
  const double once_s = std::max(now_s() - start_s, 1e-7);

  const double period_s = windows.meters().update_period_s();
  const double target_s = period_s > 0 ? options.min_counter_updates * period_s : options.min_duration_s;
  const long max_repetitions = std::max(1L, options.max_repetitions);
  const long planned = std::clamp(static_cast<long>(std::ceil(target_s / once_s)), 1L, max_repetitions);

  windows.begin(name);
  const double window_start_s = now_s();
  long repetitions = 0;
  // The planned count, then more while short of the target (runs can get slower than the
  // sizing run, e.g. on a shared CPU).
  while (repetitions < planned || (now_s() - window_start_s < target_s && repetitions < max_repetitions)) {
    workload();
    ++repetitions;
  }
  RepeatedMeasurement result;
  result.window = windows.end(name);
  result.window.repetitions = static_cast<int>(repetitions);
  if (period_s > 0 && result.window.counter_updates < options.min_counter_updates) {
    result.window.warnings.push_back(fmt::format(
        "'{}' spanned {:.1f} counter updates, fewer than the {} asked (max_repetitions {} reached, "
        "or runs got faster after the first)", name, result.window.counter_updates,
        options.min_counter_updates, options.max_repetitions));
  }
  result.seconds_per_repetition = result.window.duration_s / static_cast<double>(repetitions);
  for (EnergyReading reading : result.window.readings) {
    const double n = static_cast<double>(repetitions);
    reading.duration_s /= n;
    reading.energy_j /= n;
    reading.idle_energy_j /= n;
    reading.net_energy_j /= n;
    if (std::isfinite(reading.sampled_energy_j)) reading.sampled_energy_j /= n;
    result.per_repetition.push_back(reading);
  }
  return result;
}

bool is_stable(const std::vector<double>& values, int count, double tolerance) {
  if (count < 1 || static_cast<int>(values.size()) < count) return false;
  double mean = 0;
  for (int i = 0; i < count; ++i) mean += values[values.size() - 1 - i];
  mean /= count;
  if (!(mean > 0)) return false;
  for (int i = 0; i < count; ++i) {
    if (std::abs(values[values.size() - 1 - i] - mean) > tolerance * mean) return false;
  }
  return true;
}

WarmUpResult warm_up(MeterSet& meters, const std::function<void()>& workload, const DeviceSync& sync,
                     const WarmUpOptions& options) {
  WarmUpResult result;
  if (meters.empty()) return result;
  struct Boundary {
    double time_s;
    std::vector<PendingEnergies> energies;
  };
  auto boundary_now = [&] {
    if (sync) sync();
    Boundary boundary{now_s(), {}};
    for (const auto& meter : meters.meters()) boundary.energies.push_back(meter->energy_at(boundary.time_s));
    return boundary;
  };
  auto total_energy_j = [&](const Boundary& boundary) {
    double total = 0;
    for (std::size_t m = 0; m < meters.meters().size(); ++m) {
      const auto energies = boundary.energies[m].get();
      const auto& domains = meters.meters()[m]->domains();
      for (std::size_t d = 0; d < domains.size(); ++d) total += domains[d].in_total ? energies[d].energy_j : 0.0;
    }
    return total;
  };
  // Chunk powers are computed one chunk late so the loop never waits for a counter update.
  std::deque<Boundary> boundaries;
  boundaries.push_back(boundary_now());
  const double start_s = boundaries.front().time_s;
  while (true) {
    const double chunk_start_s = now_s();
    do {
      workload();
      ++result.runs;
    } while (now_s() - chunk_start_s < options.chunk_s);
    boundaries.push_back(boundary_now());
    if (boundaries.size() >= 3) {
      const Boundary& a = boundaries[0];
      const Boundary& b = boundaries[1];
      result.chunk_power_w.push_back((total_energy_j(b) - total_energy_j(a)) / (b.time_s - a.time_s));
      boundaries.pop_front();
      if (is_stable(result.chunk_power_w, options.stable_chunks, options.tolerance)) {
        result.stable = true;
        break;
      }
    }
    if (boundaries.back().time_s - start_s >= options.max_duration_s) break;
  }
  result.duration_s = boundaries.back().time_s - start_s;
  return result;
}

}  // namespace eaq::energy
