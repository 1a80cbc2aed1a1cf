// PowerTrace: timestamped power samples of one domain and their trapezoid integral, so energy up
// to any moment (between samples, or a little past the last) can be read back. Thread-safe: a
// sampler thread appends while windows and warm-up read.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace eaq::energy {

class PowerTrace {
 public:
  // Keeps at most max_samples (the oldest are dropped; cumulative energy stays absolute).
  explicit PowerTrace(std::size_t max_samples = 1 << 18) : max_samples_(max_samples) {}

  void add(double time_s, double power_w);

  // Energy in joules from the first sample to time_s: trapezoid between samples, linear
  // interpolation of power inside a segment, the last power held past the last sample.
  // 0 when empty.
  double energy_to(double time_s) const;
  double energy_between(double begin_s, double end_s) const { return energy_to(end_s) - energy_to(begin_s); }

  // Mean power over [begin_s, end_s] from the integral; nullopt when the trace does not cover it.
  std::optional<double> mean_power_w(double begin_s, double end_s) const;

  std::optional<double> latest_power_w() const;
  std::optional<double> latest_time_s() const;
  std::size_t size() const;

 private:
  struct Sample {
    double time_s;
    double power_w;
    double energy_j;  // cumulative at time_s
  };
  double energy_to_locked(double time_s) const;

  std::size_t max_samples_;
  mutable std::mutex mutex_;
  std::deque<Sample> samples_;
};

}  // namespace eaq::energy
