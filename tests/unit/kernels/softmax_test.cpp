// softmax and log_sum_exp against a double-precision reference: large logits (max subtraction), -inf entries
// (masked logits become exactly 0), lengths ending in a partial vector.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

TEST(Softmax, MatchesReference) {
  test::for_each_simd_target([] {
    ThreadPool pool(2);
    KernelContext ctx{&pool};
    for (std::int64_t n : {1, 5, 16, 1000, 49153}) {
      const std::int64_t rows = 3;
      std::vector<float> x = test::random_floats(rows * n, 7, -30.0f, 30.0f);
      x[0] += 500.0f;  // exp without the max subtracted would overflow
      if (n > 2) x[n + 1] = -std::numeric_limits<float>::infinity();
      std::vector<float> y = x;
      softmax(ctx, y.data(), rows, n);
      for (std::int64_t r = 0; r < rows; ++r) {
        double max_value = -INFINITY, sum = 0;
        for (std::int64_t i = 0; i < n; ++i) max_value = std::max(max_value, static_cast<double>(x[r * n + i]));
        for (std::int64_t i = 0; i < n; ++i) sum += std::exp(x[r * n + i] - max_value);
        for (std::int64_t i = 0; i < n; ++i) {
          const double expected = std::exp(x[r * n + i] - max_value) / sum;
          ASSERT_TRUE(test::close(y[r * n + i], expected, expected, 1e-5, 1e-30))
              << "n " << n << " row " << r << " i " << i << ": " << y[r * n + i] << " vs " << expected;
        }
      }
    }
  });
}

TEST(LogSumExp, MatchesReference) {
  test::for_each_simd_target([] {
    for (std::int64_t n : {1, 7, 16, 1000, 151936}) {
      std::vector<float> x = test::random_floats(n, 11, -30.0f, 30.0f);
      x[0] += 500.0f;  // exp without the max subtracted would overflow
      if (n > 2) x[1] = -std::numeric_limits<float>::infinity();
      double max_value = -INFINITY, sum = 0;
      for (float v : x) max_value = std::max(max_value, static_cast<double>(v));
      for (float v : x) sum += std::exp(static_cast<double>(v) - max_value);
      const double expected = max_value + std::log(sum);
      EXPECT_NEAR(log_sum_exp(x.data(), n), expected, 1e-5 * std::abs(expected)) << "n " << n;
    }
    const std::vector<float> masked(5, -std::numeric_limits<float>::infinity());
    EXPECT_EQ(log_sum_exp(masked.data(), 5), -std::numeric_limits<double>::infinity());
  });
}

}  // namespace
}  // namespace eaq::kernels
