// rms_norm against a double-precision reference, with and without gemma's weight offset, in place
// and out of place, over odd row lengths.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

TEST(RmsNorm, MatchesReference) {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  std::uint32_t seed = 1;
  for (std::int64_t dim : {1, 7, 64, 577, 2048}) {
    for (float offset : {0.0f, 1.0f}) {
      for (bool in_place : {false, true}) {
        const std::int64_t rows = 5;
        const std::vector<float> x = test::random_floats(rows * dim, seed++, -3.0f, 3.0f);
        const std::vector<float> weight = test::random_floats(dim, seed++);
        const float eps = 1e-6f;
        std::vector<float> y = x;
        rms_norm(ctx, in_place ? y.data() : x.data(), weight.data(), offset, eps, rows, dim, y.data());
        for (std::int64_t r = 0; r < rows; ++r) {
          double sum_squares = 0;
          for (std::int64_t i = 0; i < dim; ++i) sum_squares += static_cast<double>(x[r * dim + i]) * x[r * dim + i];
          const double inv_rms = 1.0 / std::sqrt(sum_squares / dim + eps);
          for (std::int64_t i = 0; i < dim; ++i) {
            const double expected = x[r * dim + i] * inv_rms * (static_cast<double>(weight[i]) + offset);
            ASSERT_TRUE(test::close(y[r * dim + i], expected, std::abs(expected), 1e-6, 1e-7))
                << "dim " << dim << " offset " << offset << " row " << r << " i " << i << ": "
                << y[r * dim + i] << " vs " << expected;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace eaq::kernels
