// Mean ± CI95 and percentiles.
#include "experiment/bench_statistics.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "energy/energy_statistics.h"

namespace eaq::experiment {

Estimate estimate(std::span<const double> values) {
  const auto ci = energy::ci95(values);  // throws for an empty sample
  return Estimate{values.size(), ci.mean, ci.half_width};
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) fail("percentile of an empty sample");
  if (!(p >= 0 && p <= 100)) fail("percentile {} is outside [0, 100]", p);
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(rank));
  const auto high = std::min(low + 1, values.size() - 1);
  const double fraction = rank - static_cast<double>(low);
  return values[low] + fraction * (values[high] - values[low]);
}

}  // namespace eaq::experiment
