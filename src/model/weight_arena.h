// WeightArena: owns weights converted at load time (norms and biases to f32; matrices to the
// requested compute dtype when their stored dtype has no fast kernel), and keeps the source
// mapping alive for matrices used in place.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "kernels/ops.h"

namespace eaq::model {

// Quantizes one row of n floats into `dtype` at dst (quant::quantize_row has this signature).
using QuantizeRowFn = void (*)(DType dtype, const float* src, void* dst, std::size_t n);

class WeightArena {
 public:
  // A [rows][cols] matrix stored as `dtype` at `data`, as a WeightRef of `target`: used in place
  // when dtype == target, else converted (through f32) into memory the arena owns.
  // Targets other than f32/f16/bf16 need `quantize_row` (quant::quantize_row: the model module
  // sits below quant); each row is dequantized to f32 and quantized, one row at a time.
  kernels::WeightRef matrix(DType dtype, std::int64_t rows, std::int64_t cols, const void* data, DType target,
                            QuantizeRowFn quantize_row = nullptr);
  // A vector of n values as f32 (converted unless already f32), plus `add` to every element.
  const float* vector_f32(DType dtype, std::int64_t n, const void* data, float add = 0.0f);

  std::size_t owned_bytes() const { return owned_bytes_; }

 private:
  std::vector<std::unique_ptr<std::uint8_t[]>> buffers_;
  std::size_t owned_bytes_ = 0;
};

// Converts n f32 values into `dtype` (F32, F16 or BF16) at dst.
void convert_f32_row(const float* src, DType dtype, void* dst, std::size_t n);

}  // namespace eaq::model
