// Reference log-probabilities kept in float32, candidates compared position by position.
#include "experiment/reference_quality.h"

#include <algorithm>

#include "core/error.h"

namespace eaq::experiment {

ReferenceDistributions::ReferenceDistributions(runtime::Engine& reference, const std::string& text,
                                               std::int64_t chunk_tokens, std::int64_t max_chunks)
    : chunk_tokens_(chunk_tokens) {
  const auto& tok = *reference.tokenizer;
  tokens_ = tok.encode(text, false);
  n_text_tokens_ = static_cast<std::int64_t>(tokens_.size());
  n_chunks_ = std::min(n_text_tokens_ / chunk_tokens, max_chunks);
  if (n_chunks_ < 1) {
    fail("the quality text has {} tokens, fewer than one chunk of {}: give a longer --quality-text or a smaller "
         "--quality-chunk", n_text_tokens_, chunk_tokens);
  }
  if (reference.session->context_size() < chunk_tokens) {
    fail("--quality-chunk {} exceeds the context of {} tokens: lower it", chunk_tokens, reference.session->context_size());
  }
  bos_ = tok.add_bos() ? tok.bos_id() : -1;
  first_scored_ = chunk_tokens / 2;
  scored_per_chunk_ = chunk_tokens - 1 - first_scored_;
  vocab_ = reference.lm->vocab_size();
  log_probs_.resize(static_cast<std::size_t>(n_chunks_ * scored_per_chunk_ * vocab_));
  for (std::int64_t c = 0; c < n_chunks_; ++c) {
    reference.session->reset();
    const auto& logits = reference.session->prefill_all_logits(chunk(c));
    for (std::int64_t j = first_scored_; j < chunk_tokens - 1; ++j) {
      const auto lp = quant::log_softmax(std::span<const float>(logits.data() + j * vocab_, vocab_));
      float* dst = log_probs_.data() + ((c * scored_per_chunk_) + (j - first_scored_)) * vocab_;
      for (std::int64_t v = 0; v < vocab_; ++v) dst[v] = static_cast<float>(lp[v]);
    }
  }
  reference.session->reset();
}

std::vector<std::int32_t> ReferenceDistributions::chunk(std::int64_t c) const {
  std::vector<std::int32_t> out(tokens_.begin() + c * chunk_tokens_, tokens_.begin() + (c + 1) * chunk_tokens_);
  if (bos_ >= 0) out[0] = bos_;  // as llama.cpp's perplexity
  return out;
}

quant::QualitySummary ReferenceDistributions::compare(runtime::Engine& candidate) const {
  if (candidate.lm->vocab_size() != vocab_) {
    fail("the candidate has a vocabulary of {} tokens, the reference {}: they are not the same model",
         candidate.lm->vocab_size(), vocab_);
  }
  std::vector<quant::PositionQuality> positions;
  std::vector<double> reference_row(static_cast<std::size_t>(vocab_));
  for (std::int64_t c = 0; c < n_chunks_; ++c) {
    const auto tokens = chunk(c);
    candidate.session->reset();
    const auto& logits = candidate.session->prefill_all_logits(tokens);
    for (std::int64_t j = first_scored_; j < chunk_tokens_ - 1; ++j) {
      const float* src = log_probs_.data() + ((c * scored_per_chunk_) + (j - first_scored_)) * vocab_;
      std::copy(src, src + vocab_, reference_row.begin());
      positions.push_back(quant::compare_position(
          reference_row, std::span<const float>(logits.data() + j * vocab_, vocab_), tokens[j + 1]));
    }
  }
  candidate.session->reset();
  return quant::summarize(positions);
}

}  // namespace eaq::experiment
