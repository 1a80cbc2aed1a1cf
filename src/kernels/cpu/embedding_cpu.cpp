// CPU embedding lookup: each id's table row is decoded to f32 (f16/bf16 exactly, GGUF blocks by
// the scalar reference decoders of core/dtype.h). Ids are range-checked by kernels/ops.cpp.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

void embedding_lookup(ThreadPool& pool, const WeightRef& table, const std::int32_t* ids,
                      std::int64_t n_ids, float* out) {
  const std::size_t cols = static_cast<std::size_t>(table.cols);
  const auto* base = static_cast<const std::uint8_t*>(table.data);
  const DequantizeRowFn decode = traits(table.dtype).dequantize_row;
  pool.parallel_for(static_cast<std::size_t>(n_ids), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      const void* row = base + static_cast<std::size_t>(ids[i]) * table.row_stride_bytes;
      decode(row, out + i * cols, cols);
    }
  });
}

}  // namespace eaq::kernels::cpu
