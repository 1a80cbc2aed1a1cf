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
  // eaq's own formats (core/eaq_quant_blocks.h); not readable by llama.cpp.
  I4S_G32,
  I4S_G64,
  I4S_G128,
  I4Z_G32,
  I4Z_G64,
  I4Z_G128,
  NF4,
  I8_CH,      // int8 per output channel, weight-only (W8A16)
  I8_CH_DYN,  // the same bytes; the kernel quantizes activations per token (W8A8)
  F8_E4M3_CH,
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
  // Bytes before a row's first block (the per-channel formats keep their row scale there). For
  // such formats dequantize_row decodes exactly one row: n_elements must be the row length.
  std::size_t row_header_bytes = 0;
};

const DTypeTraits& traits(DType dtype);
std::string_view dtype_name(DType dtype);
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of a row of n_elements (row header included). Throws eaq::Error if n_elements is not a multiple of the block size.
std::size_t row_bytes(DType dtype, std::size_t n_elements);
// Bits per weight of the blocks (a row header adds 8 * row_header_bytes / row length more).
inline double bits_per_weight(DType dtype) {
  const auto& t = traits(dtype);
  return 8.0 * static_cast<double>(t.block_bytes) / static_cast<double>(t.block_size);
}

// f16 or bf16: the 16-bit float dtypes (dense on a GPU, what cuBLAS multiplies).
inline bool is_half(DType dtype) { return dtype == DType::F16 || dtype == DType::BF16; }

// Dequantizes n_elements of `dtype` at src into dst (throws eaq::Error for a non-float dtype or a
// count that is not a multiple of the block size).
void dequantize(DType dtype, const void* src, float* dst, std::size_t n_elements);

}  // namespace eaq
