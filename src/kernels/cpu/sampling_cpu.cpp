// CPU token sampling: kernels/token_sampling.h's chain in one thread. The chain reads candidates
// in sorted order only as far as its cuts and its draw go — usually a few hundred of a vocabulary
// of tens of thousands — so the candidates are sorted in growing prefixes (256, then 8x more)
// instead of all at once; totals over the whole vocabulary are summed unsorted (the same sum up
// to rounding, which the chain allows: the CUDA twin adds in its own order too).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

namespace {

using Candidate = std::pair<float, std::int32_t>;

bool by_logit_desc(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// candidates[0, sorted) are the `sorted` best, in order; sort_through(i) extends that past i.
class SortedPrefix {
 public:
  SortedPrefix(std::vector<Candidate>& candidates, std::size_t limit) : c_(candidates), limit_(limit) {}
  const Candidate& at(std::size_t i) {
    if (i >= sorted_) {
      const std::size_t next = std::min(limit_, std::max({i + 1, std::size_t{256}, sorted_ * 8}));
      std::partial_sort(c_.begin() + static_cast<std::ptrdiff_t>(sorted_), c_.begin() + static_cast<std::ptrdiff_t>(next),
                        c_.end(), by_logit_desc);
      sorted_ = next;
    }
    return c_[i];
  }

 private:
  std::vector<Candidate>& c_;
  std::size_t limit_;
  std::size_t sorted_ = 0;
};

}  // namespace

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
  if (sampling.is_greedy()) {
    return std::min_element(candidates.begin(), candidates.end(), by_logit_desc)->second;
  }
  // Top-k: the first n0 in sorted order; n0 = the whole vocabulary when off.
  const std::size_t n0 = sampling.top_k > 0 && sampling.top_k < vocab ? static_cast<std::size_t>(sampling.top_k)
                                                                        : candidates.size();
  SortedPrefix sorted(candidates, n0);
  const double top = sorted.at(0).first;
  // sum over the first n candidates of exp((l - top) / t): unsorted over all, else the sorted prefix.
  auto sum_exp = [&](std::size_t n, double t) {
    double sum = 0;
    if (n == candidates.size()) {
      for (const Candidate& c : candidates) sum += std::exp((c.first - top) / t);
    } else {
      for (std::size_t i = 0; i < n; ++i) sum += std::exp((sorted.at(i).first - top) / t);
    }
    return sum;
  };
  std::size_t n = n0;
  if (sampling.top_p < 1.0f) {
    const double total = sum_exp(n0, 1.0);
    double cumulative = 0;
    for (std::size_t i = 0; i < n0; ++i) {
      cumulative += std::exp(sorted.at(i).first - top);
      if (cumulative / total >= sampling.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (sampling.min_p > 0.0f) {
    std::size_t i = 1;
    while (i < n && std::exp(sorted.at(i).first - top) >= sampling.min_p) ++i;
    n = i;
  }
  const double t = sampling.temperature;
  const double target = uniform * sum_exp(n, t);
  double cumulative = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cumulative += std::exp((sorted.at(i).first - top) / t);
    if (cumulative > target) return sorted.at(i).second;
  }
  return sorted.at(n - 1).second;
}

}  // namespace eaq::kernels::cpu
