// Statistics of repeated bench measurements: mean ± 95% confidence half-width by Student's t over
// repetitions (energy/energy_statistics.h), and latency percentiles.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace eaq::experiment {

struct Estimate {
  std::size_t n = 0;
  double mean = 0;
  // t(0.975, n-1) x sd / sqrt(n); infinite when n < 2 (one repetition says nothing about spread).
  double ci95_half_width = 0;
};

// Throws eaq::Error for an empty sample.
Estimate estimate(std::span<const double> values);

// The p-th percentile (0 <= p <= 100) by linear interpolation between the closest ranks, as
// numpy.percentile's default: rank = p/100 x (n-1). Throws eaq::Error for an empty sample.
double percentile(std::vector<double> values, double p);

}  // namespace eaq::experiment
