// lm-eval's multiple-choice metrics (acc, acc_norm), the default scoring of log-likelihood tasks.
#include "eval/task.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace eaq::eval {

namespace {

// Unicode code points in UTF-8 text (what Python's len() counts): bytes that are not
// continuation bytes (10xxxxxx).
double code_point_count(std::string_view text) {
  double n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::int64_t argmax(const std::vector<double>& values) {
  std::int64_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[static_cast<std::size_t>(best)]) best = static_cast<std::int64_t>(i);
  }
  return best;
}

}  // namespace

ItemVerdict score_multiple_choice(const LoglikelihoodItem& item,
                                  std::span<const runtime::ContinuationScore> scores) {
  EAQ_CHECK(scores.size() == item.choices.size() && !scores.empty(), "one score per choice");
  EAQ_CHECK(item.gold >= 0 && item.gold < static_cast<std::int64_t>(scores.size()), "gold index in range");
  std::vector<double> ll(scores.size());
  std::vector<double> ll_per_char(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    ll[i] = scores[i].log_likelihood;
    // lm-eval: completion_len = np.array([float(len(i)) for i in choices]); an empty choice gives
    // -inf/nan there, here it is never chosen by acc_norm.
    const double length = code_point_count(item.choices[i]);
    ll_per_char[i] = length > 0 ? scores[i].log_likelihood / length : -HUGE_VAL;
  }
  ItemVerdict verdict;
  verdict.predicted = argmax(ll);
  const std::int64_t predicted_norm = argmax(ll_per_char);
  verdict.correct = verdict.predicted == item.gold;
  verdict.metrics = {{"acc", verdict.correct ? 1.0 : 0.0}, {"acc_norm", predicted_norm == item.gold ? 1.0 : 0.0}};
  verdict.details["predicted_norm"] = predicted_norm;
  return verdict;
}

ItemVerdict LoglikelihoodTask::score(const LoglikelihoodItem& item,
                                     std::span<const runtime::ContinuationScore> scores) const {
  return score_multiple_choice(item, scores);
}

}  // namespace eaq::eval
