// sample_token (CPU) against hand-computed inverse-CDF draws: with probabilities 0.5 / 0.3 / 0.2
// the uniform number u picks token 0 below 0.5, token 1 below 0.8, token 2 above; top-k, top-p,
// min-p and temperature change those cut points as kernels/token_sampling.h says; ties go to the
// lower id; the repetition penalty divides positive and multiplies negative logits; bad
// arguments are errors naming the value.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"

namespace eaq::kernels {
namespace {

std::int32_t pick(const std::vector<float>& logits, const TokenSampling& s, double u,
                  const std::vector<std::int32_t>& penalized = {}) {
  std::vector<std::pair<float, std::int32_t>> scratch;
  return sample_token(logits.data(), static_cast<std::int64_t>(logits.size()), s, penalized.data(),
                      static_cast<std::int64_t>(penalized.size()), u, scratch);
}

// Logits whose softmax is 0.2, 0.5, 0.3 (ids 0, 1, 2): sorted, the order is 1, 2, 0.
const std::vector<float> kLogits = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};

TEST(SampleToken, UniformNumberPicksByCumulativeProbability) {
  TokenSampling s;
  s.temperature = 1.0f;
  EXPECT_EQ(pick(kLogits, s, 0.0), 1);
  EXPECT_EQ(pick(kLogits, s, 0.49), 1);
  EXPECT_EQ(pick(kLogits, s, 0.51), 2);
  EXPECT_EQ(pick(kLogits, s, 0.79), 2);
  EXPECT_EQ(pick(kLogits, s, 0.81), 0);
  EXPECT_EQ(pick(kLogits, s, 0.999999), 0);
}

TEST(SampleToken, GreedyIgnoresTheUniformNumber) {
  TokenSampling s;
  EXPECT_EQ(pick(kLogits, s, 0.0), 1);
  EXPECT_EQ(pick(kLogits, s, 0.99), 1);
}

TEST(SampleToken, TopKTopPAndMinPCutTheTail) {
  TokenSampling s;
  s.temperature = 1.0f;
  s.top_k = 2;  // {1, 2}: 0.5 / 0.8 and 0.3 / 0.8
  EXPECT_EQ(pick(kLogits, s, 0.62), 1);
  EXPECT_EQ(pick(kLogits, s, 0.63), 2);
  EXPECT_EQ(pick(kLogits, s, 0.99), 2);
  s.top_k = 0;
  s.top_p = 0.7f;  // cumulative 0.5, 0.8: the first reaching 0.7 is id 2, so {1, 2}
  EXPECT_EQ(pick(kLogits, s, 0.99), 2);
  s.top_p = 0.45f;  // 0.5 >= 0.45 at once: {1}
  EXPECT_EQ(pick(kLogits, s, 0.99), 1);
  s.top_p = 1.0f;
  s.min_p = 0.5f;  // p >= 0.25 kept: {1, 2}
  EXPECT_EQ(pick(kLogits, s, 0.99), 2);
  s.min_p = 0.7f;  // p >= 0.35: {1}
  EXPECT_EQ(pick(kLogits, s, 0.99), 1);
}

TEST(SampleToken, TemperatureSharpensBeforeTheDraw) {
  TokenSampling s;
  s.temperature = 0.5f;  // weights 0.25, 0.09, 0.04 (ids 1, 2, 0); total 0.38
  EXPECT_EQ(pick(kLogits, s, 0.65), 1);  // 0.247 < 0.25
  EXPECT_EQ(pick(kLogits, s, 0.66), 2);  // 0.2508
  EXPECT_EQ(pick(kLogits, s, 0.89), 2);  // 0.3382 < 0.34
  EXPECT_EQ(pick(kLogits, s, 0.9), 0);   // 0.342
}

TEST(SampleToken, TiesGoToTheLowerId) {
  TokenSampling s;
  s.temperature = 1.0f;
  const std::vector<float> equal = {0.0f, 1.0f, 1.0f, -0.0f, 1.0f};
  EXPECT_EQ(pick(equal, s, 0.0), 1);
  // Weights 1, 1, 1 (ids 1, 2, 4) and 1/e, 1/e (ids 0 and 3: -0 == +0), in that order.
  const double e = std::exp(1.0), total = 3 + 2 / e;
  EXPECT_EQ(pick(equal, s, 1.5 / total), 2);
  EXPECT_EQ(pick(equal, s, (3 + 0.5 / e) / total), 0);
  EXPECT_EQ(pick(equal, s, (3 + 1.5 / e) / total), 3);
  TokenSampling greedy;
  EXPECT_EQ(pick(equal, greedy, 0.5), 1);
}

TEST(SampleToken, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  TokenSampling s;
  s.repetition_penalty = 2.0f;
  EXPECT_EQ(pick({1.5f, 1.0f}, s, 0.0, {0}), 1);      // 0.75 < 1.0
  EXPECT_EQ(pick({-0.4f, -0.6f}, s, 0.0, {0}), 1);    // -0.8 < -0.6
  EXPECT_EQ(pick({-0.4f, -0.6f}, s, 0.0, {1}), 0);    // -1.2
  s.repetition_penalty = 1.0f;
  EXPECT_EQ(pick({1.5f, 1.0f}, s, 0.0, {0}), 0);
}

// The chain of kernels/token_sampling.h written plainly — every candidate sorted, every sum in
// sorted order — against the op, which sorts in growing prefixes and sums whole-vocabulary totals
// unsorted: the same token, except where a draw's target or a top-p cut lies within rounding of
// a running sum (found by moving u and top-p by a hair; such draws are left out, and must be rare).
std::int32_t reference_pick(const std::vector<float>& logits, const TokenSampling& s, double u) {
  std::vector<std::pair<float, std::int32_t>> c(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) c[i] = {logits[i], static_cast<std::int32_t>(i)};
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  if (s.is_greedy()) return c[0].second;
  std::size_t n = s.top_k > 0 && static_cast<std::size_t>(s.top_k) < c.size() ? s.top_k : c.size();
  const double top = c[0].first;
  if (s.top_p < 1.0f) {
    std::vector<double> cumulative(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cumulative[i] = sum += std::exp(c[i].first - top);
    for (std::size_t i = 0; i < n; ++i) {
      if (cumulative[i] / sum >= s.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (s.min_p > 0.0f) {
    std::size_t i = 1;
    while (i < n && std::exp(c[i].first - top) >= s.min_p) ++i;
    n = i;
  }
  double sum = 0;
  std::vector<double> cumulative(n);
  for (std::size_t i = 0; i < n; ++i) cumulative[i] = sum += std::exp((c[i].first - top) / s.temperature);
  for (std::size_t i = 0; i < n; ++i) {
    if (cumulative[i] > u * sum) return c[i].second;
  }
  return c[n - 1].second;
}

TEST(SampleToken, MatchesAPlainFullSortReference) {
  std::mt19937_64 rng(2024);
  int compared = 0, left_out = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t vocab = trial % 3 == 0 ? 3000 : trial % 3 == 1 ? 700 : 5;
    std::normal_distribution<float> spread(0.0f, trial % 2 == 0 ? 1.0f : 4.0f);  // flat-ish or peaked
    std::vector<float> logits(vocab);
    for (auto& l : logits) l = std::round(spread(rng) * 64.0f) / 64.0f;  // ties too
    TokenSampling s;
    const float temperatures[] = {0.3f, 1.0f, 3.0f};
    const int top_ks[] = {0, 5, 300, 2500};
    const float top_ps[] = {1.0f, 0.5f, 0.9f, 0.999f};
    const float min_ps[] = {0.0f, 0.01f, 1e-4f};
    s.temperature = temperatures[rng() % 3];
    s.top_k = top_ks[rng() % 4];
    s.top_p = top_ps[rng() % 4];
    s.min_p = min_ps[rng() % 3];
    for (int k = 0; k < 8; ++k) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const std::int32_t expected = reference_pick(logits, s, u);
      bool stable = true;
      for (double f : {1 - 1e-9, 1 + 1e-9}) stable = stable && (u * f >= 1.0 || reference_pick(logits, s, u * f) == expected);
      for (float p : {std::nextafter(s.top_p, 0.0f), std::nextafter(s.top_p, 2.0f)}) {
        TokenSampling moved = s;
        moved.top_p = std::min(p, 1.0f);
        stable = stable && (s.top_p >= 1.0f || reference_pick(logits, moved, u) == expected);
      }
      if (!stable) {
        ++left_out;
        continue;
      }
      ASSERT_EQ(pick(logits, s, u), expected) << "trial " << trial << ", vocab " << vocab << ", T " << s.temperature
                                              << ", top-k " << s.top_k << ", top-p " << s.top_p << ", min-p "
                                              << s.min_p << ", u " << u;
      ++compared;
    }
  }
  EXPECT_LT(left_out * 20, compared + left_out) << left_out << " of " << compared + left_out << " on a boundary";
}

TEST(SampleToken, BadArgumentsAreErrors) {
  auto expect_error = [](auto call, const std::string& needle) {
    try {
      call();
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  TokenSampling s;
  s.temperature = 1.0f;
  expect_error([&] { pick(kLogits, s, 1.0); }, "uniform number 1");
  expect_error([&] { pick(kLogits, s, -0.1); }, "uniform number -0.1");
  s.repetition_penalty = 1.5f;
  expect_error([&] { pick(kLogits, s, 0.5, {3}); }, "penalized id 3");
  expect_error([&] { pick({}, s, 0.5); }, "length 0");
}

}  // namespace
}  // namespace eaq::kernels
