// Session: a model plus its KV cache — prefill (the whole prompt in one batched pass), decode
// steps, generation with a sampler and stop conditions, and log-likelihood scoring of
// continuations that share the context's keys and values (what accuracy tasks need).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "runtime/kv_cache.h"
#include "runtime/sampler.h"

namespace eaq::runtime {

struct SessionOptions {
  std::int64_t context_size = 0;  // 0 = the model's context length (capped at 4096)
  std::int64_t n_slots = 1;       // parallel sequences (continuations scored in one batch)
  DType kv_dtype = DType::F32;
};

struct ContinuationScore {
  double log_likelihood = 0;  // sum of log p(token | preceding) over the continuation
  bool is_greedy = true;      // every continuation token is the argmax at its position
  std::int64_t n_tokens = 0;
};

class Session {
 public:
  // The KvStore adapter over this session's cache.
  class CacheStore;

  Session(model::CausalLm& model, const SessionOptions& options);
  ~Session();

  model::CausalLm& model() { return model_; }
  std::int64_t context_size() const { return context_size_; }
  std::int64_t n_past() const { return n_past_; }
  const KvCache& kv_cache() const { return cache_; }

  // Forgets everything in slot 0.
  void reset() {
    n_past_ = 0;
    scored_context_.clear();
  }

  // Runs `tokens` after what slot 0 already holds; returns the logits of the last token.
  // Throws eaq::Error if they would not fit in the context.
  std::span<const float> prefill(std::span<const std::int32_t> tokens);
  std::span<const float> decode(std::int32_t token) { return prefill(std::span(&token, 1)); }

  // Runs `token` after what slot 0 holds and returns the next token `sampler` picks (history:
  // the tokens so far, for the repetition penalty). Where the model samples on its device
  // (CausalLm::samples_on_device) its logits stay there and only the token comes back; else
  // the sampler picks from decode()'s logits. Either way the sampler draws the same numbers.
  std::int32_t decode_and_sample(std::int32_t token, Sampler& sampler, std::span<const std::int32_t> history);

  // Logits at every position of `tokens` (run after what slot 0 holds): [n][vocab].
  const std::vector<float>& prefill_all_logits(std::span<const std::int32_t> tokens);

  // Context tokens score() took from the previous call's keys and values instead of running them.
  std::int64_t reused_context_tokens() const { return reused_context_tokens_; }

  // Scores each continuation given the context: the context is run once, its keys and values
  // are shared by every continuation, and continuations run in batches of n_slots (all but their
  // last token, whose logits predict nothing scored: one-token choices need no batch). The leading
  // tokens the context shares with the previous score() call's context (a task's few-shot
  // prefix) are not run again: their keys and values are still in slot 0.
  std::vector<ContinuationScore> score(std::span<const std::int32_t> context,
                                       const std::vector<std::vector<std::int32_t>>& continuations);

 private:
  void check_fits(std::int64_t first_position, std::int64_t n_tokens) const;

  model::CausalLm& model_;
  std::int64_t context_size_;
  std::int64_t n_slots_;
  KvCache cache_;
  std::unique_ptr<CacheStore> store_;
  std::int64_t n_past_ = 0;
  std::vector<float> logits_;
  // The context whose keys and values slot 0 holds at positions [0, size) after score(); empty
  // once anything else has run in slot 0.
  std::vector<std::int32_t> scored_context_;
  std::int64_t reused_context_tokens_ = 0;
};

// log softmax(logits)[token]: f32 exponentials, their sum and the result in double.
double log_softmax_at(std::span<const float> logits, std::int32_t token);

}  // namespace eaq::runtime
