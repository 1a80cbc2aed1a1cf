// Sampler: turns a row of logits into the next token — greedy, temperature, top-k, top-p, min-p
// and a repetition penalty, seeded for reproducibility (llama.cpp's sampler chain order:
// penalties → top-k → top-p → min-p → temperature → draw).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

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
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks the next token from `logits` given the tokens so far (for the repetition penalty).
  std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> history);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, std::int32_t>> candidates_;
};

// Index of the largest logit (lowest index on ties, as torch.argmax).
std::int32_t argmax(std::span<const float> logits);

}  // namespace eaq::runtime
