// Sampler: candidates are filtered in place; probabilities via a max-subtracted softmax in double.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/error.h"

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

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  params_.validate();
}

std::int32_t Sampler::sample(std::span<const float> logits, std::span<const std::int32_t> history) {
  const auto n_vocab = static_cast<std::int32_t>(logits.size());
  candidates_.resize(logits.size());
  for (std::int32_t i = 0; i < n_vocab; ++i) candidates_[i] = {logits[i], i};

  if (params_.repetition_penalty != 1.0f && params_.repetition_last_n > 0) {
    std::size_t n = std::min<std::size_t>(history.size(), params_.repetition_last_n);
    std::unordered_set<std::int32_t> seen(history.end() - n, history.end());
    for (std::int32_t id : seen) {
      if (id < 0 || id >= n_vocab) continue;
      float& l = candidates_[id].first;
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  auto by_logit_desc = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (params_.is_greedy()) {
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit_desc)->second;
  }
  std::size_t keep = candidates_.size();
  if (params_.top_k > 0 && static_cast<std::size_t>(params_.top_k) < keep) {
    keep = params_.top_k;
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_logit_desc);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit_desc);
  }
  candidates_.resize(keep);

  // Probabilities at temperature 1 for top-p / min-p (llama.cpp applies temperature last).
  std::vector<double> probs(keep);
  double max_logit = candidates_[0].first, sum = 0;
  for (std::size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(candidates_[i].first - max_logit);
  for (auto& p : probs) p /= sum;
  if (params_.top_p < 1.0f) {
    double cumulative = 0;
    std::size_t i = 0;
    for (; i < keep; ++i) {
      cumulative += probs[i];
      if (cumulative >= params_.top_p) break;
    }
    keep = std::min(keep, i + 1);
  }
  if (params_.min_p > 0.0f) {
    double threshold = probs[0] * params_.min_p;
    std::size_t i = 1;
    while (i < keep && probs[i] >= threshold) ++i;
    keep = i;
  }
  candidates_.resize(keep);

  std::vector<double> weights(keep);
  double t = params_.temperature;
  for (std::size_t i = 0; i < keep; ++i) weights[i] = std::exp((candidates_[i].first - max_logit) / t);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  return candidates_[pick(rng_)].second;
}

}  // namespace eaq::runtime
