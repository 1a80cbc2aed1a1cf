// rope against a double-precision rotation for both layouts. The angle is position * inv_freq
// rounded to f32 — the contract (HF forms it in f32 too) — and everything after it in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

TEST(Rope, MatchesReferenceForBothLayouts) {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  for (RopeLayout layout : {RopeLayout::kNormal, RopeLayout::kNeox}) {
    for (std::int64_t head_dim : {2, 64, 80}) {
      for (float attention_factor : {1.0f, 1.2f}) {
        const std::int64_t n_tokens = 6, n_heads = 3, half = head_dim / 2;
        std::vector<float> inv_freq(half);
        for (std::int64_t i = 0; i < half; ++i) {
          inv_freq[i] = static_cast<float>(1.0 / std::pow(10000.0, 2.0 * i / head_dim));
        }
        const std::vector<std::int32_t> positions = {0, 1, 2, 17, 1000, 8191};
        const std::vector<float> x = test::random_floats(n_tokens * n_heads * head_dim, 3);
        std::vector<float> y = x;
        rope(ctx, y.data(), n_tokens, n_heads, head_dim, positions.data(), inv_freq.data(), layout,
             attention_factor);
        for (std::int64_t t = 0; t < n_tokens; ++t) {
          for (std::int64_t h = 0; h < n_heads; ++h) {
            const float* in = x.data() + (t * n_heads + h) * head_dim;
            const float* out = y.data() + (t * n_heads + h) * head_dim;
            for (std::int64_t i = 0; i < half; ++i) {
              const double angle = static_cast<float>(positions[t]) * inv_freq[i];
              const double c = std::cos(angle) * attention_factor, s = std::sin(angle) * attention_factor;
              const std::int64_t i0 = layout == RopeLayout::kNormal ? 2 * i : i;
              const std::int64_t i1 = layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
              const double e0 = in[i0] * c - in[i1] * s, e1 = in[i1] * c + in[i0] * s;
              const double magnitude = (std::abs(in[i0]) + std::abs(in[i1])) * attention_factor;
              ASSERT_TRUE(test::close(out[i0], e0, magnitude, 1e-6)) << "t " << t << " i " << i;
              ASSERT_TRUE(test::close(out[i1], e1, magnitude, 1e-6)) << "t " << t << " i " << i;
            }
          }
        }
      }
    }
  }
}

TEST(Rope, RejectsOddHeadDim) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  std::vector<float> x(3), inv_freq(1);
  std::vector<std::int32_t> positions = {0};
  EXPECT_THROW(rope(ctx, x.data(), 1, 1, 3, positions.data(), inv_freq.data(), RopeLayout::kNeox, 1.0f), Error);
}

}  // namespace
}  // namespace eaq::kernels
