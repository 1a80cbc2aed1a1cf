// Session: slot 0 holds the running sequence; scoring copies the context into the other slots.
#include "runtime/session.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/ops.h"
#include "runtime/sampler.h"

namespace eaq::runtime {

class Session::CacheStore : public model::KvStore {
 public:
  explicit CacheStore(KvCache& cache) : cache_(cache) {}
  kernels::KvRef layer(std::int64_t layer_index, std::int64_t slot) override {
    return cache_.layer(layer_index, slot);
  }
  std::int64_t max_positions() const override { return cache_.shape().max_positions; }

 private:
  KvCache& cache_;
};

namespace {
std::int64_t choose_context(const model::CausalLm& m, const SessionOptions& o) {
  if (o.context_size < 0) fail("the context size must be positive (got {})", o.context_size);
  if (o.context_size > 0) {
    if (m.context_length() > 0 && o.context_size > m.context_length()) {
      fail("context size {} exceeds the model's trained context length {}; use --ctx {} or less",
           o.context_size, m.context_length(), m.context_length());
    }
    return o.context_size;
  }
  return m.context_length() > 0 ? std::min<std::int64_t>(m.context_length(), 4096) : 4096;
}

// A model that keeps its own keys and values (on a GPU) gets a token host cache that only carries
// the context bound: one layer, one slot, one head of one value.
KvCacheShape host_cache_shape(const model::CausalLm& m, std::int64_t context, std::int64_t n_slots, DType dtype) {
  if (m.owns_kv_cache()) return KvCacheShape{1, 1, 1, context, 1, DType::F16};
  return KvCacheShape{m.n_layers(), m.n_kv_heads(), m.head_dim(), context, n_slots, dtype};
}
}  // namespace

Session::Session(model::CausalLm& model, const SessionOptions& options)
    : model_(model),
      context_size_(choose_context(model, options)),
      n_slots_(std::max<std::int64_t>(1, options.n_slots)),
      cache_(host_cache_shape(model, context_size_, n_slots_, options.kv_dtype)),
      store_(std::make_unique<CacheStore>(cache_)) {}

Session::~Session() = default;

void Session::check_fits(std::int64_t first_position, std::int64_t n_tokens) const {
  if (first_position + n_tokens > context_size_) {
    fail("{} tokens after {} already in the context do not fit in the context size {}: shorten "
         "the prompt, raise --ctx (up to the model's {}), or pass --truncate to keep the last "
         "tokens",
         n_tokens, first_position, context_size_, model_.context_length());
  }
}

std::span<const float> Session::prefill(std::span<const std::int32_t> tokens) {
  if (tokens.empty()) fail("nothing to run: the token sequence is empty");
  scored_context_.clear();
  check_fits(n_past_, static_cast<std::int64_t>(tokens.size()));
  model::TokenChunk chunk{tokens, n_past_, 0};
  logits_.resize(model_.vocab_size());
  model_.forward(std::span(&chunk, 1), *store_, model::LogitsRows::kLastOfEachChunk, logits_.data());
  n_past_ += static_cast<std::int64_t>(tokens.size());
  return logits_;
}

std::int32_t Session::decode_and_sample(std::int32_t token, Sampler& sampler, std::span<const std::int32_t> history) {
  if (!model_.samples_on_device()) return sampler.sample(decode(token), history);
  scored_context_.clear();
  check_fits(n_past_, 1);
  const Sampler::Step step = sampler.next_step(history, model_.vocab_size());
  const std::int32_t next =
      model_.forward_and_sample(token, n_past_, *store_, sampler.params().chain(), step.penalized, step.uniform);
  n_past_ += 1;
  return next;
}

const std::vector<float>& Session::prefill_all_logits(std::span<const std::int32_t> tokens) {
  if (tokens.empty()) fail("nothing to run: the token sequence is empty");
  scored_context_.clear();
  check_fits(n_past_, static_cast<std::int64_t>(tokens.size()));
  model::TokenChunk chunk{tokens, n_past_, 0};
  logits_.resize(tokens.size() * model_.vocab_size());
  model_.forward(std::span(&chunk, 1), *store_, model::LogitsRows::kAll, logits_.data());
  n_past_ += static_cast<std::int64_t>(tokens.size());
  return logits_;
}

double log_softmax_at(std::span<const float> logits, std::int32_t token) {
  EAQ_CHECK(token >= 0 && static_cast<std::size_t>(token) < logits.size(), "token {} out of range", token);
  return static_cast<double>(logits[token]) - kernels::log_sum_exp(logits.data(), static_cast<std::int64_t>(logits.size()));
}

namespace {
// What scoring needs of one logits row, computed once however many continuations it predicts.
struct PredictingRow {
  std::span<const float> logits;
  double log_normalizer = 0;  // log-sum-exp of the row
  std::int32_t greedy = 0;
  explicit PredictingRow(std::span<const float> row)
      : logits(row),
        log_normalizer(kernels::log_sum_exp(row.data(), static_cast<std::int64_t>(row.size()))),
        greedy(argmax(row)) {}
  void add(ContinuationScore& s, std::int32_t token) const {
    EAQ_CHECK(token >= 0 && static_cast<std::size_t>(token) < logits.size(), "token {} out of range", token);
    s.log_likelihood += static_cast<double>(logits[token]) - log_normalizer;
    if (greedy != token) s.is_greedy = false;
  }
};
}  // namespace

std::vector<ContinuationScore> Session::score(
    std::span<const std::int32_t> context, const std::vector<std::vector<std::int32_t>>& continuations) {
  if (context.empty()) fail("scoring needs a non-empty context (at least a BOS token)");
  const std::int64_t vocab = model_.vocab_size();
  const auto n_context = static_cast<std::int64_t>(context.size());
  // Keys and values depend only on the tokens up to their position, so the part of slot 0 that
  // the previous context shares with this one is still right; the last context token always
  // runs (its logits predict the first continuation token).
  const std::int64_t shared = std::min<std::int64_t>(
      n_context - 1, static_cast<std::int64_t>(
                         std::mismatch(scored_context_.begin(), scored_context_.end(), context.begin(), context.end())
                             .first -
                         scored_context_.begin()));
  n_past_ = shared;
  reused_context_tokens_ += shared;
  auto last = prefill(context.subspan(static_cast<std::size_t>(shared)));
  const std::vector<float> context_last(last.begin(), last.end());
  const PredictingRow first_row(context_last);  // predicts every continuation's first token

  std::vector<ContinuationScore> scores(continuations.size());
  std::vector<std::size_t> longer;  // continuations of 2+ tokens: their tokens but the last must run
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    const auto& tokens = continuations[i];
    if (tokens.empty()) fail("continuation {} is empty: every choice needs at least one token", i);
    check_fits(n_context, static_cast<std::int64_t>(tokens.size()));
    scores[i].n_tokens = static_cast<std::int64_t>(tokens.size());
    first_row.add(scores[i], tokens[0]);
    if (tokens.size() > 1) longer.push_back(i);
  }

  // A continuation's last token predicts nothing that is scored, so it never runs: single-token
  // choices (MMLU's letters) are scored from the context's logits alone.
  std::vector<float> batch_logits;
  for (std::size_t begin = 0; begin < longer.size(); begin += static_cast<std::size_t>(n_slots_)) {
    const std::size_t end = std::min(longer.size(), begin + static_cast<std::size_t>(n_slots_));
    std::vector<model::TokenChunk> chunks;
    std::int64_t total_tokens = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto& tokens = continuations[longer[k]];
      const auto slot = static_cast<std::int64_t>(k - begin);
      if (slot != 0 && model_.owns_kv_cache()) {
        model_.copy_kv_prefix(0, slot, n_context);
      } else if (slot != 0) {
        cache_.copy_prefix(0, slot, n_context);
      }
      const auto n_run = tokens.size() - 1;
      chunks.push_back(model::TokenChunk{std::span(tokens.data(), n_run), n_context, slot});
      total_tokens += static_cast<std::int64_t>(n_run);
    }
    batch_logits.resize(static_cast<std::size_t>(total_tokens * vocab));
    model_.forward(chunks, *store_, model::LogitsRows::kAll, batch_logits.data());

    std::int64_t row = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto& tokens = continuations[longer[k]];
      for (std::size_t j = 1; j < tokens.size(); ++j, ++row) {
        PredictingRow(std::span<const float>(batch_logits.data() + row * vocab, static_cast<std::size_t>(vocab)))
            .add(scores[longer[k]], tokens[j]);
      }
    }
  }
  n_past_ = n_context;  // slot 0 holds the context; continuation entries past it are stale
  scored_context_.assign(context.begin(), context.end());
  return scores;
}

}  // namespace eaq::runtime
