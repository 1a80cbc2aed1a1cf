// KernelContext::quantize_block_activations (ggml's reference numerics for Q8_0/Q4_0/Q4_1): exact where
// the activations are 8-bit blocks already, within the activation rounding bound elsewhere, and
// ignored for other dtypes. tests/reference/test_engine_vs_llama_cpp.py prints its distance from
// llama.cpp itself.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

using test::make_test_weight;
using test::random_floats;

std::vector<float> run(bool quantize, const std::vector<float>& x, std::int64_t m, const WeightRef& w,
                       const float* bias = nullptr) {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  ctx.quantize_block_activations = quantize;
  std::vector<float> y(static_cast<std::size_t>(m * w.rows), std::nanf(""));
  matmul(ctx, x.data(), m, w, bias, y.data());
  return y;
}

// Activations whose every block of 32 holds integers in [-127, 127] with 127 among them: the
// block scale is exactly 1 and quantization changes nothing, so the result is the f32 matmul on
// the dequantized weights (up to summation order). Small Σq keeps Q8_1's f16 s = d·Σq exact.
TEST(MatmulBlockActivations, ExactWhenTheActivationsAreAlreadyEightBitBlocks) {
  const std::int64_t m = 3, n = 37, k = 128;
  std::vector<float> x(static_cast<std::size_t>(m * k));
  for (std::int64_t i = 0; i < m * k; ++i) x[i] = static_cast<float>((i * 7919) % 21 - 10);
  for (std::int64_t b = 0; b < m * k / 32; ++b) {
    x[b * 32] = 127.0f;
    x[b * 32 + 1] = -127.0f;
  }
  for (DType dtype : {DType::Q8_0, DType::Q4_0, DType::Q4_1}) {
    const auto w = make_test_weight(dtype, n, k, 7, 0);
    const auto y = run(true, x, m, w.ref());
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t r = 0; r < n; ++r) {
        double ref = 0, magnitude = 0;
        for (std::int64_t c = 0; c < k; ++c) {
          ref += static_cast<double>(x[i * k + c]) * w.values[r * k + c];
          magnitude += std::abs(static_cast<double>(x[i * k + c]) * w.values[r * k + c]);
        }
        EXPECT_NEAR(y[i * n + r], ref, 1e-5 * magnitude + 1e-6) << dtype_name(dtype) << " [" << i << "][" << r << "]";
      }
    }
  }
}

// Random activations: each is moved by at most half its block's step d = absmax/127 (and d by
// the f16 rounding of its scale), so |y_q8 - y_f32| <= Σ_blocks (d/2 + f16 error) · Σ|w|.
TEST(MatmulBlockActivations, WithinTheActivationRoundingBound) {
  const std::int64_t m = 2, n = 19, k = 256;
  const auto x = random_floats(static_cast<std::size_t>(m * k), 11, -3.0f, 3.0f);
  std::vector<float> bias(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < n; ++r) bias[r] = 0.25f * static_cast<float>(r);
  for (DType dtype : {DType::Q8_0, DType::Q4_0, DType::Q4_1}) {
    const auto w = make_test_weight(dtype, n, k, 5, 0);
    const auto exact = run(false, x, m, w.ref(), bias.data());
    const auto quantized = run(true, x, m, w.ref(), bias.data());
    bool any_difference = false;
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t r = 0; r < n; ++r) {
        double bound = 0;
        for (std::int64_t b = 0; b < k / 32; ++b) {
          float amax = 0;
          double w_abs = 0;
          for (std::int64_t j = 0; j < 32; ++j) {
            amax = std::max(amax, std::fabs(x[i * k + b * 32 + j]));
            w_abs += std::abs(w.values[r * k + b * 32 + j]);
          }
          // half a step, plus the f16 scale's relative error (2^-11) times the largest code
          bound += (amax / 127.0 / 2 + amax * std::ldexp(1.0, -11)) * w_abs;
        }
        const float got = quantized[i * n + r], want = exact[i * n + r];
        EXPECT_LE(std::abs(got - want), bound * 1.01 + 1e-5) << dtype_name(dtype) << " [" << i << "][" << r << "]";
        any_difference |= got != want;
      }
    }
    EXPECT_TRUE(any_difference) << dtype_name(dtype) << ": the activations were not quantized";
  }
}

TEST(MatmulBlockActivations, OtherDtypesIgnoreTheFlag) {
  const std::int64_t m = 2, n = 9;
  for (DType dtype : {DType::F32, DType::F16, DType::Q4_K, DType::Q6_K}) {
    const std::int64_t cols = traits(dtype).block_size > 32 ? 256 : 64;
    const auto xs = random_floats(static_cast<std::size_t>(m * cols), 3);
    const auto w = make_test_weight(dtype, n, cols, 2, 0);
    EXPECT_EQ(run(true, xs, m, w.ref()), run(false, xs, m, w.ref())) << dtype_name(dtype);
  }
}

}  // namespace
}  // namespace eaq::kernels
