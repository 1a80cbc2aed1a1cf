// KvCache: one allocation; K and V planes interleaved per (layer, slot).
#include "runtime/kv_cache.h"

#include <cstring>
#include <new>

#include "core/error.h"

namespace eaq::runtime {

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape) {
  if (shape.dtype != DType::F32 && shape.dtype != DType::F16) {
    fail("KV cache dtype {} is not supported: use f32 or f16", dtype_name(shape.dtype));
  }
  EAQ_CHECK(shape.n_layers > 0 && shape.n_kv_heads > 0 && shape.head_dim > 0 && shape.n_slots > 0,
            "bad KV cache shape");
  if (shape.max_positions <= 0) fail("the context size must be positive (got {})", shape.max_positions);
  double total = 2.0 * shape.n_layers * shape.n_slots * static_cast<double>(plane_bytes());
  try {
    storage_.assign(static_cast<std::size_t>(total), 0);
  } catch (const std::bad_alloc&) {
    fail("the KV cache needs {:.2f} GiB ({} layers × {} slots × {} positions × {} KV heads × {} × "
         "{}) and that much memory could not be allocated: lower the context size (--ctx) or the "
         "number of parallel sequences, or use an f16 cache",
         total / (1 << 30), shape.n_layers, shape.n_slots, shape.max_positions, shape.n_kv_heads,
         shape.head_dim, dtype_name(shape.dtype));
  }
}

std::size_t KvCache::plane_bytes() const {
  return static_cast<std::size_t>(shape_.max_positions * shape_.n_kv_heads * shape_.head_dim) *
         traits(shape_.dtype).block_bytes;
}

kernels::KvRef KvCache::layer(std::int64_t layer_index, std::int64_t slot) {
  EAQ_CHECK(layer_index >= 0 && layer_index < shape_.n_layers && slot >= 0 && slot < shape_.n_slots,
            "KV cache layer {} slot {} out of range", layer_index, slot);
  std::uint8_t* base = storage_.data() + 2 * plane_bytes() * (layer_index * shape_.n_slots + slot);
  return kernels::KvRef{shape_.dtype, base, base + plane_bytes(), shape_.n_kv_heads, shape_.head_dim,
                        shape_.max_positions};
}

void KvCache::copy_prefix(std::int64_t from, std::int64_t to, std::int64_t n_positions) {
  EAQ_CHECK(n_positions >= 0 && n_positions <= shape_.max_positions, "copy of {} positions", n_positions);
  if (from == to) return;
  std::size_t bytes = static_cast<std::size_t>(n_positions * shape_.n_kv_heads * shape_.head_dim) *
                      traits(shape_.dtype).block_bytes;
  for (std::int64_t l = 0; l < shape_.n_layers; ++l) {
    auto src = layer(l, from), dst = layer(l, to);
    std::memcpy(dst.k, src.k, bytes);
    std::memcpy(dst.v, src.v, bytes);
  }
}

}  // namespace eaq::runtime
