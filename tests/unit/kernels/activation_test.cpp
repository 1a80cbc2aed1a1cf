// swiglu, geglu_tanh, add and scale against double-precision references, over lengths that end
// in a partial vector and lengths large enough to be split across threads.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

std::vector<float> gate_values(std::int64_t n, std::uint32_t seed) {
  std::vector<float> g = test::random_floats(n, seed, -12.0f, 12.0f);
  // Extremes: exp(-g) would overflow for the silu of -100 computed naively.
  const float extremes[] = {0.0f, -0.0f, 100.0f, -100.0f, 1e-8f, -88.5f, 89.0f};
  for (std::size_t i = 0; i < std::size(extremes) && i < g.size(); ++i) g[i * 3 % g.size()] = extremes[i];
  return g;
}

TEST(Activation, SwigluMatchesReference) {
  test::for_each_simd_target([] {
    ThreadPool pool(2);
    KernelContext ctx{&pool};
    for (std::int64_t n : {1, 13, 64, 1537, 40001}) {
      const std::vector<float> g = gate_values(n, 1), up = test::random_floats(n, 2, -4.0f, 4.0f);
      std::vector<float> out(n);
      swiglu(ctx, g.data(), up.data(), out.data(), n);
      for (std::int64_t i = 0; i < n; ++i) {
        const double expected = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * up[i];
        ASSERT_TRUE(test::close(out[i], expected, std::abs(expected), 2e-6, 1e-30))
            << "n " << n << " gate " << g[i] << " up " << up[i] << ": " << out[i] << " vs " << expected;
      }
    }
  });
}

TEST(Activation, GegluTanhMatchesReference) {
  test::for_each_simd_target([] {
    ThreadPool pool(2);
    KernelContext ctx{&pool};
    for (std::int64_t n : {1, 13, 64, 1537, 40001}) {
      const std::vector<float> g = gate_values(n, 3), up = test::random_floats(n, 4, -4.0f, 4.0f);
      std::vector<float> out(n);
      geglu_tanh(ctx, g.data(), up.data(), out.data(), n);
      for (std::int64_t i = 0; i < n; ++i) {
        const double x = g[i];
        const double inner = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
        const double expected = 0.5 * x * (1.0 + std::tanh(inner)) * up[i];
        // 1 + tanh cancels for negative gates: the error is relative to 0.5 * |g * up|.
        ASSERT_TRUE(test::close(out[i], expected, std::abs(expected) + 0.5 * std::abs(x * up[i]), 2e-6))
            << "n " << n << " gate " << g[i] << " up " << up[i] << ": " << out[i] << " vs " << expected;
      }
    }
  });
}

TEST(Elementwise, AddAndScale) {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  for (std::int64_t n : {1, 17, 200003}) {
    const std::vector<float> a = test::random_floats(n, 5), b = test::random_floats(n, 6);
    std::vector<float> y = a;
    add(ctx, y.data(), b.data(), y.data(), n);  // aliasing a
    for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], a[i] + b[i]);
    scale(ctx, y.data(), 0.125f, n);
    for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], (a[i] + b[i]) * 0.125f);
  }
}

}  // namespace
}  // namespace eaq::kernels
