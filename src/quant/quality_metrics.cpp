// Quality metrics: all sums in double; the p99 is the nearest-rank percentile.
#include "quant/quality_metrics.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace eaq::quant {

std::vector<double> log_softmax(std::span<const float> logits) {
  EAQ_CHECK(!logits.empty(), "log_softmax of an empty row");
  double max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_sum = std::log(sum);
  std::vector<double> out(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<double>(logits[i]) - max_logit - log_sum;
  return out;
}

PositionQuality compare_position(std::span<const double> ref, std::span<const float> candidate_logits,
                                 std::int32_t next_token) {
  EAQ_CHECK(ref.size() == candidate_logits.size(), "vocabulary sizes differ: {} vs {}", ref.size(),
            candidate_logits.size());
  EAQ_CHECK(next_token >= 0 && static_cast<std::size_t>(next_token) < ref.size(), "token {} out of range", next_token);
  const std::vector<double> cand = log_softmax(candidate_logits);
  PositionQuality q;
  double kl = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double p = std::exp(ref[i]);
    if (p > 0) kl += p * (ref[i] - cand[i]);
  }
  q.kl_divergence = std::max(0.0, kl);  // tiny negative values are rounding
  q.top1_agrees = std::max_element(ref.begin(), ref.end()) - ref.begin() ==
                  std::max_element(cand.begin(), cand.end()) - cand.begin();
  q.nll_reference = -ref[next_token];
  q.nll_candidate = -cand[next_token];
  return q;
}

QualitySummary summarize(const std::vector<PositionQuality>& positions) {
  QualitySummary s;
  s.n_positions = static_cast<std::int64_t>(positions.size());
  if (positions.empty()) return s;
  double nll_ref = 0, nll = 0, kl = 0, agree = 0;
  std::vector<double> kls;
  kls.reserve(positions.size());
  for (const auto& p : positions) {
    nll_ref += p.nll_reference;
    nll += p.nll_candidate;
    kl += p.kl_divergence;
    agree += p.top1_agrees ? 1 : 0;
    kls.push_back(p.kl_divergence);
  }
  const double n = static_cast<double>(positions.size());
  s.perplexity_reference = std::exp(nll_ref / n);
  s.perplexity = std::exp(nll / n);
  s.delta_perplexity = s.perplexity - s.perplexity_reference;
  s.mean_kl_divergence = kl / n;
  std::sort(kls.begin(), kls.end());
  s.max_kl_divergence = kls.back();
  std::size_t rank = static_cast<std::size_t>(std::ceil(0.99 * n));
  s.p99_kl_divergence = kls[std::min(kls.size(), std::max<std::size_t>(rank, 1)) - 1];
  s.top1_agreement = agree / n;
  return s;
}

}  // namespace eaq::quant
