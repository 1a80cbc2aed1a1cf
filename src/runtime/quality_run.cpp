// run_quality: the reference's log-probabilities are computed once and kept (float32) for every
// scored position; each candidate precision is then loaded and compared chunk by chunk.
#include "runtime/quality_run.h"

#include <chrono>

#include "core/error.h"
#include "quant/scheme_registry.h"
#include "runtime/engine.h"

namespace eaq::runtime {

namespace {

EngineConfig config_for(const QualityRunOptions& o, const std::string& precision) {
  EngineConfig c;
  c.model_path = o.model_path;
  c.n_threads = o.n_threads;
  c.context_size = o.chunk_tokens;
  // f32/f16/bf16 as before; every other name is a scheme (quant/scheme_registry.h) or "native".
  auto dtype = dtype_from_name(precision);
  if (dtype && (*dtype == DType::F32 || *dtype == DType::F16 || *dtype == DType::BF16)) {
    c.weight_dtype = *dtype;
  } else if (precision == "native" || quant::find_scheme(precision) != nullptr) {
    c.precision = precision;
  } else if (precision.rfind("plan:", 0) == 0) {  // plan:FILE.yaml, a precision plan
    c.plan_path = precision.substr(5);
  } else {
    fail("precision '{}' is unknown: use f32, f16, bf16, native, plan:FILE.yaml or a scheme ({})", precision,
         quant::scheme_names());
  }
  return c;
}

}  // namespace

QualityReport run_quality(const QualityRunOptions& o, const std::function<void(std::int64_t, std::int64_t)>& progress) {
  if (o.precisions.empty()) fail("give at least one precision to compare (--precision f16,bf16)");
  if (o.chunk_tokens < 16) fail("--chunk {} is too small: use at least 16 tokens", o.chunk_tokens);
  if (o.max_chunks < 0) fail("--chunks {} is invalid", o.max_chunks);

  QualityReport report;
  report.reference = o.reference;
  Engine reference = load_engine(config_for(o, o.reference));
  const auto& tok = *reference.tokenizer;
  std::vector<std::int32_t> tokens = tok.encode(o.text, false);
  report.n_text_tokens = static_cast<std::int64_t>(tokens.size());
  std::int64_t n_chunks = report.n_text_tokens / o.chunk_tokens;
  if (o.max_chunks > 0) n_chunks = std::min(n_chunks, o.max_chunks);
  if (n_chunks == 0) {
    fail("the text has {} tokens, fewer than one chunk of {}: give a longer --text or a smaller --chunk",
         report.n_text_tokens, o.chunk_tokens);
  }
  report.n_chunks = n_chunks;
  const std::int64_t first = o.chunk_tokens / 2, vocab = reference.lm->vocab_size();
  const std::int64_t scored_per_chunk = o.chunk_tokens - 1 - first;
  const std::int64_t total_steps = n_chunks * static_cast<std::int64_t>(o.precisions.size() + 1);
  std::int64_t step = 0;

  const std::int32_t bos = tok.add_bos() ? tok.bos_id() : -1;  // the tokenizer goes with the reference engine
  auto chunk_tokens = [&](std::int64_t c) {
    std::vector<std::int32_t> chunk(tokens.begin() + c * o.chunk_tokens, tokens.begin() + (c + 1) * o.chunk_tokens);
    if (bos >= 0) chunk[0] = bos;  // as llama.cpp's perplexity
    return chunk;
  };

  std::vector<float> reference_log_probs(static_cast<std::size_t>(n_chunks * scored_per_chunk * vocab));
  for (std::int64_t c = 0; c < n_chunks; ++c) {
    auto chunk = chunk_tokens(c);
    reference.session->reset();
    const auto& logits = reference.session->prefill_all_logits(chunk);
    for (std::int64_t j = first; j < o.chunk_tokens - 1; ++j) {
      auto lp = quant::log_softmax(std::span<const float>(logits.data() + j * vocab, vocab));
      float* dst = reference_log_probs.data() + ((c * scored_per_chunk) + (j - first)) * vocab;
      for (std::int64_t v = 0; v < vocab; ++v) dst[v] = static_cast<float>(lp[v]);
    }
    if (progress) progress(++step, total_steps);
  }
  reference = Engine{};  // free it before loading the next precision

  std::vector<double> ref_row(vocab);
  for (const auto& precision : o.precisions) {
    auto start = std::chrono::steady_clock::now();
    Engine candidate = load_engine(config_for(o, precision));
    std::vector<quant::PositionQuality> positions;
    for (std::int64_t c = 0; c < n_chunks; ++c) {
      auto chunk = chunk_tokens(c);
      candidate.session->reset();
      const auto& logits = candidate.session->prefill_all_logits(chunk);
      for (std::int64_t j = first; j < o.chunk_tokens - 1; ++j) {
        const float* src = reference_log_probs.data() + ((c * scored_per_chunk) + (j - first)) * vocab;
        for (std::int64_t v = 0; v < vocab; ++v) ref_row[v] = src[v];
        positions.push_back(quant::compare_position(ref_row, std::span<const float>(logits.data() + j * vocab, vocab),
                                                    chunk[j + 1]));
      }
      if (progress) progress(++step, total_steps);
    }
    report.rows.push_back(PrecisionQuality{
        precision, quant::summarize(positions),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }
  return report;
}

}  // namespace eaq::runtime
