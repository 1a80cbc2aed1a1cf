// Statistics over repeated measurements: mean, sample standard deviation, a 95% confidence
// interval for the mean by Student's t, and outlier flagging by the modified z-score.
//
// Student t quantiles come from inverting the regularized incomplete beta function
// (t CDF: F(t) = 1 - I_{v/(v+t^2)}(v/2, 1/2) / 2 for t > 0), evaluated with a continued fraction
// (modified Lentz) and inverted by bisection, so any degrees of freedom are exact to ~1e-10.
//
// Outliers: modified z-score M_i = 0.6745 (x_i - median) / MAD, flagged when |M_i| > 3.5
// (Iglewicz & Hoaglin, 1993). When the MAD is 0 (over half the values equal), the mean absolute
// deviation scaled by 1.253314 replaces 0.6745/MAD's denominator, as the same authors suggest.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace eaq::energy {

// I_x(a, b) for a, b > 0 and x in [0, 1].
double regularized_incomplete_beta(double a, double b, double x);

// The p-quantile of Student's t with `dof` degrees of freedom (dof > 0, 0 < p < 1).
double student_t_quantile(double p, double dof);

struct Summary {
  std::size_t n = 0;
  double mean = 0;
  double sd = 0;   // sample standard deviation (n - 1); 0 when n < 2
  double sem = 0;  // sd / sqrt(n)
  double ci95_low = 0;
  double ci95_high = 0;
  double ci95_half_width = 0;  // t(0.975, n-1) x sem; infinite when n < 2
  double median = 0;
  double min = 0;
  double max = 0;
};

// Throws eaq::Error for an empty sample.
Summary summarize(std::span<const double> values);

struct ConfidenceInterval {
  double mean = 0;
  double low = 0;
  double high = 0;
  double half_width = 0;
};
ConfidenceInterval ci95(std::span<const double> values);

double median(std::span<const double> values);
std::vector<double> modified_z_scores(std::span<const double> values);
// One flag per value: true where |modified z| > threshold.
std::vector<bool> flag_outliers(std::span<const double> values, double threshold = 3.5);

}  // namespace eaq::energy
