// DType: every element format eaq stores weights or activations in, and a traits table per dtype
// (block size, bytes per block, name, scalar reference dequantizer). Block layouts live in
// core/quant_blocks.h, shared by CPU and CUDA code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace eaq {

enum class DType : std::uint8_t {
  F32,
  F16,
  BF16,
  F8_E4M3,
  I8,
  U8,
  I16,
  I32,
  I64,
  F64,
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  Q8_K,
  kCount
};

// Converts `n_elements` (a multiple of block_size) starting at `src` into floats.
using DequantizeRowFn = void (*)(const void* src, float* dst, std::size_t n_elements);

struct DTypeTraits {
  DType dtype;
  std::string_view name;  // lower-case, as printed by `eaq info`: "f32", "q4_k", ...
  std::size_t block_size;   // elements per block (1 for plain types)
  std::size_t block_bytes;  // bytes per block
  bool is_quantized;
  DequantizeRowFn dequantize_row;  // scalar reference decoder; nullptr if not convertible to float
};

const DTypeTraits& traits(DType dtype);
std::string_view dtype_name(DType dtype);
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of a row of n_elements. Throws eaq::Error if n_elements is not a multiple of the block size.
std::size_t row_bytes(DType dtype, std::size_t n_elements);
inline double bits_per_weight(DType dtype) {
  const auto& t = traits(dtype);
  return 8.0 * static_cast<double>(t.block_bytes) / static_cast<double>(t.block_size);
}

// Dequantizes n_elements of `dtype` at src into dst (throws eaq::Error for a non-float dtype or a
// count that is not a multiple of the block size).
void dequantize(DType dtype, const void* src, float* dst, std::size_t n_elements);

}  // namespace eaq
