// PowerTrace: trapezoid integration of power samples.
#include "energy/power_trace.h"

#include <algorithm>

namespace eaq::energy {

void PowerTrace::add(double time_s, double power_w) {
  std::lock_guard lock(mutex_);
  if (samples_.empty()) {
    samples_.push_back({time_s, power_w, 0.0});
    return;
  }
  const Sample& last = samples_.back();
  if (time_s <= last.time_s) return;  // the clock is monotonic; a repeat adds nothing
  const double energy_j = last.energy_j + 0.5 * (last.power_w + power_w) * (time_s - last.time_s);
  samples_.push_back({time_s, power_w, energy_j});
  if (samples_.size() > max_samples_) samples_.pop_front();
}

double PowerTrace::energy_to_locked(double time_s) const {
  if (samples_.empty()) return 0.0;
  const Sample& first = samples_.front();
  if (time_s <= first.time_s) return first.energy_j - first.power_w * (first.time_s - time_s);
  const Sample& last = samples_.back();
  if (time_s >= last.time_s) return last.energy_j + last.power_w * (time_s - last.time_s);
  // First sample strictly after time_s; the one before it starts the segment.
  auto after = std::upper_bound(samples_.begin(), samples_.end(), time_s,
                                [](double t, const Sample& s) { return t < s.time_s; });
  const Sample& a = *(after - 1);
  const Sample& b = *after;
  const double fraction = (time_s - a.time_s) / (b.time_s - a.time_s);
  const double power_at_w = a.power_w + fraction * (b.power_w - a.power_w);
  return a.energy_j + 0.5 * (a.power_w + power_at_w) * (time_s - a.time_s);
}

double PowerTrace::energy_to(double time_s) const {
  std::lock_guard lock(mutex_);
  return energy_to_locked(time_s);
}

std::optional<double> PowerTrace::mean_power_w(double begin_s, double end_s) const {
  std::lock_guard lock(mutex_);
  if (samples_.empty() || end_s <= begin_s || begin_s < samples_.front().time_s) return std::nullopt;
  return (energy_to_locked(end_s) - energy_to_locked(begin_s)) / (end_s - begin_s);
}

std::optional<double> PowerTrace::latest_power_w() const {
  std::lock_guard lock(mutex_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back().power_w;
}

std::optional<double> PowerTrace::latest_time_s() const {
  std::lock_guard lock(mutex_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back().time_s;
}

std::size_t PowerTrace::size() const {
  std::lock_guard lock(mutex_);
  return samples_.size();
}

}  // namespace eaq::energy
