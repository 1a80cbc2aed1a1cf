// Sampler: the random stream and penalty window; the choice is kernels::sample_token.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/ops.h"

namespace eaq::runtime {

void SamplingParams::validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) {
    fail("--temp {} is invalid: use 0 for greedy decoding or a positive finite temperature", temperature);
  }
  if (top_k < 0) fail("--top-k {} is invalid: use 0 (off) or a positive count", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f)) fail("--top-p {} is invalid: it must be in (0, 1]", top_p);
  if (!(min_p >= 0.0f && min_p < 1.0f)) fail("--min-p {} is invalid: it must be in [0, 1)", min_p);
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty)) {
    fail("--repeat-penalty {} is invalid: it must be positive (1 = off)", repetition_penalty);
  }
  if (repetition_last_n < 0) fail("--repeat-last-n {} is invalid: it must be >= 0", repetition_last_n);
}

std::int32_t argmax(std::span<const float> logits) {
  EAQ_CHECK(!logits.empty(), "argmax of an empty logits row");
  return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

kernels::TokenSampling SamplingParams::chain() const {
  kernels::TokenSampling chain;
  chain.temperature = temperature;
  chain.top_k = top_k;
  chain.top_p = top_p;
  chain.min_p = min_p;
  chain.repetition_penalty = repetition_penalty;
  return chain;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  params_.validate();
}

Sampler::Step Sampler::next_step(std::span<const std::int32_t> history, std::int64_t vocab) {
  Step step;
  if (params_.repetition_penalty != 1.0f && params_.repetition_last_n > 0) {
    const std::size_t n = std::min<std::size_t>(history.size(), static_cast<std::size_t>(params_.repetition_last_n));
    for (std::int32_t id : history.subspan(history.size() - n)) {
      if (id >= 0 && id < vocab) step.penalized.push_back(id);
    }
    std::sort(step.penalized.begin(), step.penalized.end());
    step.penalized.erase(std::unique(step.penalized.begin(), step.penalized.end()), step.penalized.end());
  }
  // The top 53 bits of one 64-bit draw: exactly uniform on [0, 1), the same on every standard library.
  if (!params_.is_greedy()) step.uniform = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  return step;
}

std::int32_t Sampler::sample(std::span<const float> logits, std::span<const std::int32_t> history) {
  const auto vocab = static_cast<std::int64_t>(logits.size());
  const Step step = next_step(history, vocab);
  return kernels::sample_token(logits.data(), vocab, params_.chain(), step.penalized.data(),
                              static_cast<std::int64_t>(step.penalized.size()), step.uniform, candidates_);
}

}  // namespace eaq::runtime
