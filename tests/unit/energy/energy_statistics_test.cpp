// Statistics against published t tables and hand-computed values.
#include "energy/energy_statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace eaq::energy {
namespace {

TEST(IncompleteBeta, ClosedForms) {
  for (double x : {0.05, 0.3, 0.5, 0.77, 0.99}) {
    EXPECT_NEAR(regularized_incomplete_beta(1, 1, x), x, 1e-12);
    EXPECT_NEAR(regularized_incomplete_beta(3, 1, x), std::pow(x, 3), 1e-12);
    EXPECT_NEAR(regularized_incomplete_beta(1, 4, x), 1 - std::pow(1 - x, 4), 1e-12);
  }
  EXPECT_NEAR(regularized_incomplete_beta(7.5, 7.5, 0.5), 0.5, 1e-12);
  EXPECT_EQ(regularized_incomplete_beta(2, 3, 0), 0.0);
  EXPECT_EQ(regularized_incomplete_beta(2, 3, 1), 1.0);
}

// Two-sided 95% (p = 0.975) and other quantiles from standard Student t tables.
TEST(StudentT, MatchesTables) {
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.303, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.776, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 7), 2.365, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 120), 1.980, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.995, 5), 4.032, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.95, 20), 1.725, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.9, 3), 1.638, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.95996, 1e-4);  // the normal limit
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.776, 5e-4);
  EXPECT_EQ(student_t_quantile(0.5, 9), 0.0);
  EXPECT_THROW(student_t_quantile(1.0, 3), Error);
  EXPECT_THROW(student_t_quantile(0.9, 0), Error);
}

TEST(Summary, HandComputed) {
  // mean 5, squared deviations sum 32 -> sd sqrt(32/7), sem sd/sqrt(8), t(0.975,7) = 2.364624.
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarize(values);
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.sd, std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_NEAR(s.sem, std::sqrt(32.0 / 7.0) / std::sqrt(8.0), 1e-12);
  EXPECT_NEAR(s.ci95_half_width, 2.364624 * s.sem, 1e-5);
  EXPECT_NEAR(s.ci95_low, 5.0 - 1.787496, 1e-5);
  EXPECT_NEAR(s.ci95_high, 5.0 + 1.787496, 1e-5);
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.min, 2);
  EXPECT_DOUBLE_EQ(s.max, 9);
  const ConfidenceInterval ci = ci95(values);
  EXPECT_DOUBLE_EQ(ci.low, s.ci95_low);
}

TEST(Summary, SingleValueHasUnboundedInterval) {
  const std::vector<double> one = {3.0};
  const Summary s = summarize(one);
  EXPECT_EQ(s.sd, 0.0);
  EXPECT_TRUE(std::isinf(s.ci95_half_width));
  EXPECT_THROW(summarize(std::vector<double>{}), Error);
}

TEST(Outliers, ModifiedZScore) {
  // median 10, MAD 0.1: M(30) = 0.6745 * 20 / 0.1 = 134.9; M(10.2) = 1.349.
  const std::vector<double> values = {10, 10.1, 9.9, 10, 10.2, 9.8, 30};
  const auto scores = modified_z_scores(values);
  EXPECT_NEAR(scores[6], 134.9, 1e-9);
  EXPECT_NEAR(scores[4], 1.349, 1e-9);
  const auto flags = flag_outliers(values);
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false, false, false, false, true}));
}

TEST(Outliers, ZeroMadFallsBackToMeanAbsoluteDeviation) {
  // median 5, MAD 0; mean absolute deviation 0.8: M(9) = 4 / (1.253314 * 0.8) = 3.9894.
  const std::vector<double> values = {5, 5, 5, 5, 9};
  const auto scores = modified_z_scores(values);
  EXPECT_NEAR(scores[4], 4.0 / (1.253314 * 0.8), 1e-9);
  EXPECT_TRUE(flag_outliers(values)[4]);
  EXPECT_FALSE(flag_outliers(std::vector<double>{7, 7, 7})[0]);
}

}  // namespace
}  // namespace eaq::energy
