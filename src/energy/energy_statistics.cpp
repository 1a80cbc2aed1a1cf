// Statistics: incomplete beta, t quantiles, summaries and outliers.
#include "energy/energy_statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace eaq::energy {

namespace {

// Continued fraction for I_x(a, b), modified Lentz's method; converges fast for x < (a+1)/(a+b+2).
double incomplete_beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double fraction = d;
  for (int m = 1; m <= 10000; ++m) {
    const double two_m = 2.0 * m;
    // Even step.
    double numerator = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m));
    d = 1.0 + numerator * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + numerator / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    fraction *= d * c;
    // Odd step.
    numerator = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0));
    d = 1.0 + numerator * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + numerator / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    fraction *= delta;
    if (std::abs(delta - 1.0) < kEpsilon) break;
  }
  return fraction;
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0 && b > 0)) throw InternalError("incomplete beta needs a, b > 0");
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  // Use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges faster.
  if (x < (a + 1.0) / (a + b + 2.0)) return front * incomplete_beta_fraction(a, b, x) / a;
  return 1.0 - front * incomplete_beta_fraction(b, a, 1.0 - x) / b;
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0 && p < 1)) fail("a t quantile needs 0 < p < 1, got {}", p);
  if (!(dof > 0)) fail("a t quantile needs positive degrees of freedom, got {}", dof);
  if (p == 0.5) return 0.0;
  // Two-sided tail probability of |T| > t is I_{v/(v+t^2)}(v/2, 1/2); solve for x = v/(v+t^2).
  const double tail = 2.0 * std::min(p, 1.0 - p);
  double low = 0.0;   // x -> 0: t -> infinity, I -> 0
  double high = 1.0;  // x -> 1: t -> 0, I -> 1
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (low + high);
    if (regularized_incomplete_beta(dof / 2.0, 0.5, mid) < tail) {
      low = mid;
    } else {
      high = mid;
    }
  }
  const double x = 0.5 * (low + high);
  const double t = std::sqrt(dof * (1.0 - x) / x);
  return p > 0.5 ? t : -t;
}

double median(std::span<const double> values) {
  if (values.empty()) fail("the median of an empty sample is undefined");
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

Summary summarize(std::span<const double> values) {
  if (values.empty()) fail("cannot summarize an empty sample: no repetitions were measured");
  Summary s;
  s.n = values.size();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.sd = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : 0.0;
  s.sem = s.sd / std::sqrt(static_cast<double>(s.n));
  s.ci95_half_width = s.n > 1 ? student_t_quantile(0.975, static_cast<double>(s.n - 1)) * s.sem
                              : std::numeric_limits<double>::infinity();
  s.ci95_low = s.mean - s.ci95_half_width;
  s.ci95_high = s.mean + s.ci95_half_width;
  s.median = median(values);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

ConfidenceInterval ci95(std::span<const double> values) {
  const Summary s = summarize(values);
  return {s.mean, s.ci95_low, s.ci95_high, s.ci95_half_width};
}

std::vector<double> modified_z_scores(std::span<const double> values) {
  if (values.empty()) return {};
  const double center = median(values);
  std::vector<double> deviations;
  for (double v : values) deviations.push_back(std::abs(v - center));
  const double mad = median(deviations);
  std::vector<double> scores;
  if (mad > 0) {
    for (double v : values) scores.push_back(0.6745 * (v - center) / mad);
    return scores;
  }
  double mean_deviation = 0;
  for (double d : deviations) mean_deviation += d;
  mean_deviation /= static_cast<double>(deviations.size());
  for (double v : values) {
    scores.push_back(mean_deviation > 0 ? (v - center) / (1.253314 * mean_deviation) : 0.0);
  }
  return scores;
}

std::vector<bool> flag_outliers(std::span<const double> values, double threshold) {
  std::vector<bool> flags;
  for (double score : modified_z_scores(values)) flags.push_back(std::abs(score) > threshold);
  return flags;
}

}  // namespace eaq::energy
