// run_quality: each precision's perplexity, Δppl, KL divergence and top-1 agreement against a
// reference precision on a text, llama.cpp's methodology: the text is cut into chunks of
// chunk_tokens, each chunk runs from an empty cache, and positions from the chunk's middle on
// are scored (the first half is context).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/quality_metrics.h"

namespace eaq::runtime {

struct QualityRunOptions {
  std::string model_path;
  std::vector<std::string> precisions;  // f32, f16, bf16, native, plan:FILE.yaml, or schemes (quant/scheme_registry.h)
  std::string reference = "f32";
  std::string text;
  std::int64_t chunk_tokens = 512;
  std::int64_t max_chunks = 0;  // 0 = all the text holds
  int n_threads = 1;
};

struct PrecisionQuality {
  std::string precision;
  quant::QualitySummary summary;
  double elapsed_s = 0;
};

struct QualityReport {
  std::string reference;
  std::int64_t n_text_tokens = 0;
  std::int64_t n_chunks = 0;
  std::vector<PrecisionQuality> rows;
};

// progress(done, total) is called after each chunk of each precision.
QualityReport run_quality(const QualityRunOptions& options,
                          const std::function<void(std::int64_t, std::int64_t)>& progress = {});

}  // namespace eaq::runtime
