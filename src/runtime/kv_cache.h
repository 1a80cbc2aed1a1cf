// KvCache: preallocated keys and values for every layer and sequence slot, f32 or f16:
// layout per layer and slot [max_positions][n_kv_heads][head_dim]. Nothing is allocated after
// construction; a slot's prefix can be copied to other slots (shared context for scoring).
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "kernels/ops.h"

namespace eaq::runtime {

struct KvCacheShape {
  std::int64_t n_layers = 0;
  std::int64_t n_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t max_positions = 0;  // per sequence slot
  std::int64_t n_slots = 1;
  DType dtype = DType::F32;  // F32 or F16
};

class KvCache {
 public:
  // Throws eaq::Error if the cache would not fit in memory (says how much it needs and what to
  // lower: --ctx or the number of parallel sequences).
  explicit KvCache(const KvCacheShape& shape);

  const KvCacheShape& shape() const { return shape_; }
  std::size_t size_bytes() const { return storage_.size(); }
  kernels::KvRef layer(std::int64_t layer_index, std::int64_t slot);

  // Copies positions [0, n_positions) of every layer from slot `from` to slot `to`.
  void copy_prefix(std::int64_t from, std::int64_t to, std::int64_t n_positions);

 private:
  std::size_t plane_bytes() const;  // one of K or V, one layer, one slot
  KvCacheShape shape_;
  std::vector<std::uint8_t> storage_;
};

}  // namespace eaq::runtime
