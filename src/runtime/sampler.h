// Sampler: turns a row of logits into the next token — greedy, temperature, top-k, top-p, min-p
// and a repetition penalty, seeded for reproducibility (llama.cpp's sampler chain order:
// penalties → top-k → top-p → min-p → temperature → draw; kernels/token_sampling.h says how).
// The choice itself is the sample_token op; the Sampler keeps what carries from step to step: the
// random stream (one uniform number a non-greedy step) and the window of tokens to penalize. A
// backend that samples where its logits are (the GPU) takes the same Step, so it draws the same
// numbers as the CPU op would.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "kernels/token_sampling.h"

namespace eaq::runtime {

struct SamplingParams {
  float temperature = 0.0f;         // 0 = greedy
  std::int32_t top_k = 0;           // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off (CTRL-style: logit/p if > 0 else logit*p)
  std::int32_t repetition_last_n = 64;
  std::uint64_t seed = 0;

  // Throws eaq::Error naming the parameter, its value and the allowed range.
  void validate() const;
  bool is_greedy() const { return temperature <= 0.0f; }
  kernels::TokenSampling chain() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // What one step's choice needs besides the logits.
  struct Step {
    std::vector<std::int32_t> penalized;  // distinct ids of the penalty window, ascending, < vocab
    double uniform = 0;                   // the draw's number in [0, 1); 0 when greedy (none drawn)
  };
  // Advances the random stream by one draw (none when greedy) and collects the penalty window.
  Step next_step(std::span<const std::int32_t> history, std::int64_t vocab);

  // Picks the next token from `logits` given the tokens so far (for the repetition penalty).
  std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> history);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, std::int32_t>> candidates_;
};

// Index of the largest logit (lowest index on ties, as torch.argmax).
std::int32_t argmax(std::span<const float> logits);

}  // namespace eaq::runtime
