// Quality of a loaded precision against a reference precision, llama.cpp's KL-divergence
// methodology as runtime/quality_run.h (same chunking, BOS at each chunk's start, second half of
// each chunk scored, quant::compare_position / quant::summarize), but on engines the bench has
// already loaded: the reference's log-probabilities are computed once per run, and each
// precision is scored with the engine it was timed with (one model load per precision, not two).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/quality_metrics.h"
#include "runtime/engine.h"

namespace eaq::experiment {

class ReferenceDistributions {
 public:
  // Runs `reference` over the first max_chunks chunks of chunk_tokens tokens of `text`. Throws
  // eaq::Error when the text holds less than one chunk.
  ReferenceDistributions(runtime::Engine& reference, const std::string& text, std::int64_t chunk_tokens,
                         std::int64_t max_chunks);

  std::int64_t n_chunks() const { return n_chunks_; }
  std::int64_t n_text_tokens() const { return n_text_tokens_; }
  std::int64_t chunk_tokens() const { return chunk_tokens_; }

  // Scores `candidate` (same model and tokenizer, context >= chunk_tokens); leaves its session reset.
  quant::QualitySummary compare(runtime::Engine& candidate) const;

 private:
  std::vector<std::int32_t> chunk(std::int64_t c) const;

  std::vector<std::int32_t> tokens_;
  std::int32_t bos_ = -1;
  std::int64_t chunk_tokens_ = 0;
  std::int64_t n_chunks_ = 0;
  std::int64_t n_text_tokens_ = 0;
  std::int64_t first_scored_ = 0;
  std::int64_t scored_per_chunk_ = 0;
  std::int64_t vocab_ = 0;
  std::vector<float> log_probs_;  // [chunk][scored position][vocab]
};

}  // namespace eaq::experiment
