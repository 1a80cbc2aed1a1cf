// Sampler: greedy ties, filters (top-k, top-p, min-p), repetition penalty, seeding, validation.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "kernels/ops.h"

namespace eaq::runtime {
namespace {

TEST(Sampler, GreedyPicksTheLowestIndexOfTheMaximum) {
  Sampler s(SamplingParams{});
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(s.sample(logits, {}), 1);
  EXPECT_EQ(argmax(logits), 1);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  Sampler s(p);
  std::vector<float> logits = {0.1f, 0.3f, 3.0f, 0.2f};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(logits, {}), 2);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  // Probabilities 0.5, 0.3, 0.2 (logits are their logs): top_p 0.7 keeps {0, 1} only.
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.7f;
  p.seed = 3;
  Sampler s(p);
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  std::set<std::int32_t> seen;
  for (int i = 0; i < 400; ++i) seen.insert(s.sample(logits, {}));
  EXPECT_EQ(seen, (std::set<std::int32_t>{0, 1}));
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTop) {
  // p = 0.6, 0.25, 0.15; min_p 0.3 → threshold 0.18 keeps {0, 1}.
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.3f;
  Sampler s(p);
  std::vector<float> logits = {std::log(0.6f), std::log(0.25f), std::log(0.15f)};
  std::set<std::int32_t> seen;
  for (int i = 0; i < 400; ++i) seen.insert(s.sample(logits, {}));
  EXPECT_EQ(seen, (std::set<std::int32_t>{0, 1}));
}

TEST(Sampler, FrequenciesFollowTheSoftmaxAtTemperatureOne) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 11;
  Sampler s(p);
  std::vector<float> logits = {std::log(0.7f), std::log(0.2f), std::log(0.1f)};
  std::map<std::int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[s.sample(logits, {})]++;
  EXPECT_NEAR(counts[0] / double(n), 0.7, 0.02);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.02);
  EXPECT_NEAR(counts[2] / double(n), 0.1, 0.02);
}

TEST(Sampler, SameSeedSameSequence) {
  SamplingParams p;
  p.temperature = 0.8f;
  p.seed = 42;
  std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  Sampler a(p), b(p);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.sample(logits, {}), b.sample(logits, {}));
}

TEST(Sampler, RepetitionPenaltyDemotesSeenTokens) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  std::vector<float> logits = {1.5f, 1.0f};  // token 0 seen: 1.5 / 2 = 0.75 < 1.0
  std::vector<std::int32_t> history = {0};
  EXPECT_EQ(s.sample(logits, history), 1);
}

TEST(Sampler, StepHoldsTheDistinctPenaltyWindowAndOneDrawWhenNotGreedy) {
  SamplingParams p;
  p.repetition_penalty = 1.3f;
  p.repetition_last_n = 4;
  Sampler greedy(p);
  const std::vector<std::int32_t> history = {9, 1, 7, 3, 7, 600, 1};
  const Sampler::Step step = greedy.next_step(history, 512);  // window 3 7 600 1; 600 is not a token
  EXPECT_EQ(step.penalized, (std::vector<std::int32_t>{1, 3, 7}));
  EXPECT_EQ(step.uniform, 0.0);  // greedy: nothing drawn
  p.temperature = 0.7f;
  p.seed = 5;
  Sampler a(p), b(p);
  const double u = a.next_step(history, 512).uniform;
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
  EXPECT_NE(u, a.next_step(history, 512).uniform);
  EXPECT_EQ(u, b.next_step(history, 512).uniform);
}

// What a backend sampling on its device does — next_step, then the chain with that step's
// numbers — picks what sample() picks from the same seed.
TEST(Sampler, AStepReplayedThroughTheOpPicksWhatSamplePicks) {
  SamplingParams p;
  p.temperature = 0.9f;
  p.top_k = 5;
  p.top_p = 0.9f;
  p.repetition_penalty = 1.2f;
  p.seed = 17;
  std::vector<float> logits(64);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
  std::vector<std::int32_t> history = {3, 8, 21};
  Sampler direct(p), stepped(p);
  std::vector<std::pair<float, std::int32_t>> scratch;
  for (int i = 0; i < 200; ++i) {
    const std::int32_t expected = direct.sample(logits, history);
    const Sampler::Step step = stepped.next_step(history, static_cast<std::int64_t>(logits.size()));
    const std::int32_t replayed = kernels::sample_token(logits.data(), static_cast<std::int64_t>(logits.size()),
                                                        p.chain(), step.penalized.data(),
                                                        static_cast<std::int64_t>(step.penalized.size()), step.uniform,
                                                        scratch);
    ASSERT_EQ(replayed, expected) << "step " << i;
    history.push_back(expected);
  }
}

TEST(Sampler, InvalidParametersAreRejectedByName) {
  auto expect_error = [](SamplingParams p, const std::string& needle) {
    try {
      p.validate();
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  SamplingParams p;
  p.temperature = -0.5f;
  expect_error(p, "--temp");
  p = {};
  p.top_p = 0.0f;
  expect_error(p, "--top-p");
  p = {};
  p.min_p = 1.0f;
  expect_error(p, "--min-p");
  p = {};
  p.top_k = -1;
  expect_error(p, "--top-k");
  p = {};
  p.repetition_penalty = 0.0f;
  expect_error(p, "--repeat-penalty");
}

}  // namespace
}  // namespace eaq::runtime
