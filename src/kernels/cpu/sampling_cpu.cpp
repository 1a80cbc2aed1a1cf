// CPU token sampling: kernels/token_sampling.h's chain, step by step, in one thread (a row of
// logits is at most a few hundred thousand floats; sorting them dominates, and top-k uses a
// partial sort).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

std::int32_t sample_token(const float* logits, std::int64_t vocab, const TokenSampling& sampling,
                          const std::int32_t* penalized, std::int64_t n_penalized, double uniform,
                          std::vector<std::pair<float, std::int32_t>>& candidates) {
  candidates.resize(static_cast<std::size_t>(vocab));
  for (std::int64_t i = 0; i < vocab; ++i) candidates[i] = {logits[i], static_cast<std::int32_t>(i)};
  if (sampling.repetition_penalty != 1.0f) {
    for (std::int64_t i = 0; i < n_penalized; ++i) {
      float& l = candidates[static_cast<std::size_t>(penalized[i])].first;
      l = l > 0 ? l / sampling.repetition_penalty : l * sampling.repetition_penalty;
    }
  }
  auto by_logit_desc = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (sampling.is_greedy()) {
    return std::min_element(candidates.begin(), candidates.end(), by_logit_desc)->second;
  }
  std::size_t n = candidates.size();
  if (sampling.top_k > 0 && static_cast<std::size_t>(sampling.top_k) < n) {
    n = static_cast<std::size_t>(sampling.top_k);
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n), candidates.end(),
                      by_logit_desc);
  } else {
    std::sort(candidates.begin(), candidates.end(), by_logit_desc);
  }
  const double top = candidates[0].first;
  if (sampling.top_p < 1.0f) {
    std::vector<double> cumulative(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cumulative[i] = sum += std::exp(candidates[i].first - top);
    for (std::size_t i = 0; i < n; ++i) {
      if (cumulative[i] / sum >= sampling.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (sampling.min_p > 0.0f) {
    std::size_t i = 1;
    while (i < n && std::exp(candidates[i].first - top) >= sampling.min_p) ++i;
    n = i;
  }
  std::vector<double> cumulative(n);
  double sum = 0;
  const double t = sampling.temperature;
  for (std::size_t i = 0; i < n; ++i) cumulative[i] = sum += std::exp((candidates[i].first - top) / t);
  const double target = uniform * sum;
  const auto chosen = std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin();
  return candidates[std::min(static_cast<std::size_t>(chosen), n - 1)].second;
}

}  // namespace eaq::kernels::cpu
