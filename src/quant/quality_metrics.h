// Quality of a precision against a reference precision, llama.cpp's KL-divergence methodology
// (tools/perplexity --kl-divergence): per scored position, the reference's and the candidate's
// token distributions give KL(P_ref || P_cand), whether their top-1 tokens agree, and each one's
// negative log-likelihood of the actual next token (→ perplexity, Δppl).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace eaq::quant {

// log_softmax of one logits row, in double.
std::vector<double> log_softmax(std::span<const float> logits);

struct PositionQuality {
  double kl_divergence = 0;  // KL(P_ref || P_cand), nats
  bool top1_agrees = false;
  double nll_reference = 0;  // −log P_ref(next token)
  double nll_candidate = 0;
};

// `reference_log_probs` = log_softmax(reference logits) (computed once, reused per candidate).
PositionQuality compare_position(std::span<const double> reference_log_probs, std::span<const float> candidate_logits,
                                 std::int32_t next_token);

struct QualitySummary {
  std::int64_t n_positions = 0;
  double perplexity_reference = 0;
  double perplexity = 0;
  double delta_perplexity = 0;  // perplexity − perplexity_reference
  double mean_kl_divergence = 0;
  double p99_kl_divergence = 0;
  double max_kl_divergence = 0;
  double top1_agreement = 0;  // fraction in [0, 1]
};

QualitySummary summarize(const std::vector<PositionQuality>& positions);

}  // namespace eaq::quant
