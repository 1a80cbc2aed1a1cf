// CausalLm: the interface every architecture implements (llama family, qwen2, gemma3): run a
// batch of token chunks through the model, writing keys/values into a KvStore and logits out.
// Architectures are written against kernels/ops.h only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"
#include "kernels/token_sampling.h"

namespace eaq::model {

// Where an architecture keeps keys and values: implemented by runtime::KvCache.
class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual kernels::KvRef layer(std::int64_t layer_index, std::int64_t slot) = 0;
  virtual std::int64_t max_positions() const = 0;
};

// A contiguous run of tokens of one sequence: tokens[i] sits at position first_position + i of
// KV slot `slot`. Positions before first_position must already be in the cache.
struct TokenChunk {
  std::span<const std::int32_t> tokens;
  std::int64_t first_position = 0;
  std::int64_t slot = 0;
};

enum class LogitsRows { kAll, kLastOfEachChunk };

class CausalLm {
 public:
  virtual ~CausalLm() = default;
  virtual std::string architecture() const = 0;
  virtual std::int64_t vocab_size() const = 0;
  virtual std::int64_t n_layers() const = 0;
  virtual std::int64_t n_kv_heads() const = 0;
  virtual std::int64_t head_dim() const = 0;
  virtual std::int64_t context_length() const = 0;

  // Backends that keep keys and values themselves (the CUDA model) say so: a Session then gives
  // them a KvStore that only bounds positions, and copies shared prefixes through copy_kv_prefix.
  virtual bool owns_kv_cache() const { return false; }
  virtual void copy_kv_prefix(std::int64_t from_slot, std::int64_t to_slot, std::int64_t n_positions) {}

  // Runs all chunks in one forward pass. logits receives [rows][vocab_size] f32 where rows is
  // the total token count (kAll) or the number of chunks (kLastOfEachChunk).
  virtual void forward(std::span<const TokenChunk> chunks, KvStore& kv, LogitsRows rows,
                       float* logits) = 0;

  // Backends whose logits live on a device (the CUDA model) pick the next token there: runs
  // `token` at `position` of slot 0, as forward() of that one token would, and returns the token
  // kernels/token_sampling.h's chain picks from its logits with `penalized` and `uniform` — only
  // the token crosses to the host. The others sample from forward()'s logits on the host.
  virtual bool samples_on_device() const { return false; }
  virtual std::int32_t forward_and_sample(std::int32_t token, std::int64_t position, KvStore& kv,
                                          const kernels::TokenSampling& sampling,
                                          std::span<const std::int32_t> penalized, double uniform) {
    fail("the {} model cannot sample on its device; sample from forward()'s logits", architecture());
  }
};

}  // namespace eaq::model
