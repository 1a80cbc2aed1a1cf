// The dtype traits table. Quantized formats' scalar decoders live in core/dequantize_*.cpp.
#include "core/dtype.h"

#include <array>
#include <cstring>

#include "core/eaq_quant_blocks.h"
#include "core/error.h"
#include "core/half.h"
#include "core/dequantize_eaq_formats.h"
#include "core/dequantize_rows.h"
#include "core/quant_dequantize.h"

namespace eaq {

namespace {

void dequantize_f32(const void* src, float* dst, std::size_t n) { std::memcpy(dst, src, n * 4); }
void dequantize_f16(const void* src, float* dst, std::size_t n) {
  const auto* s = static_cast<const std::uint16_t*>(src);
  for (std::size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
}
void dequantize_bf16(const void* src, float* dst, std::size_t n) {
  const auto* s = static_cast<const std::uint16_t*>(src);
  for (std::size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
}
void dequantize_f8_e4m3(const void* src, float* dst, std::size_t n) {
  const auto* s = static_cast<const std::uint8_t*>(src);
  for (std::size_t i = 0; i < n; ++i) dst[i] = f8e4m3_to_f32(s[i]);
}
template <typename T>
void dequantize_integer(const void* src, float* dst, std::size_t n) {
  const auto* s = static_cast<const T*>(src);
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
}
void dequantize_f64(const void* src, float* dst, std::size_t n) {
  const auto* s = static_cast<const double*>(src);
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
}

constexpr std::array<DTypeTraits, static_cast<std::size_t>(DType::kCount)> kTraits = {{
    {DType::F32, "f32", 1, 4, false, dequantize_f32},
    {DType::F16, "f16", 1, 2, false, dequantize_f16},
    {DType::BF16, "bf16", 1, 2, false, dequantize_bf16},
    {DType::F8_E4M3, "f8_e4m3", 1, 1, false, dequantize_f8_e4m3},
    {DType::I8, "i8", 1, 1, false, dequantize_integer<std::int8_t>},
    {DType::U8, "u8", 1, 1, false, dequantize_integer<std::uint8_t>},
    {DType::I16, "i16", 1, 2, false, dequantize_integer<std::int16_t>},
    {DType::I32, "i32", 1, 4, false, dequantize_integer<std::int32_t>},
    {DType::I64, "i64", 1, 8, false, dequantize_integer<std::int64_t>},
    {DType::F64, "f64", 1, 8, false, dequantize_f64},
    {DType::Q8_0, "q8_0", 32, 34, true, dequantize_row_q8_0},
    {DType::Q4_0, "q4_0", 32, 18, true, dequantize_row_q4_0},
    {DType::Q4_1, "q4_1", 32, 20, true, dequantize_row_q4_1},
    {DType::Q5_0, "q5_0", 32, 22, true, dequantize_row_q5_0},
    {DType::Q5_1, "q5_1", 32, 24, true, dequantize_row_q5_1},
    {DType::Q2_K, "q2_k", 256, 84, true, dequantize_row_q2_k},
    {DType::Q3_K, "q3_k", 256, 110, true, dequantize_row_q3_k},
    {DType::Q4_K, "q4_k", 256, 144, true, dequantize_row_q4_k},
    {DType::Q5_K, "q5_k", 256, 176, true, dequantize_row_q5_k},
    {DType::Q6_K, "q6_k", 256, 210, true, dequantize_row_q6_k},
    {DType::Q8_K, "q8_k", 256, 292, true, dequantize_row_q8_k},
    {DType::I4S_G32, "i4s_g32", 32, 18, true, dequantize_row_i4s_g32},
    {DType::I4S_G64, "i4s_g64", 64, 34, true, dequantize_row_i4s_g64},
    {DType::I4S_G128, "i4s_g128", 128, 66, true, dequantize_row_i4s_g128},
    {DType::I4Z_G32, "i4z_g32", 32, 19, true, dequantize_row_i4z_g32},
    {DType::I4Z_G64, "i4z_g64", 64, 35, true, dequantize_row_i4z_g64},
    {DType::I4Z_G128, "i4z_g128", 128, 67, true, dequantize_row_i4z_g128},
    {DType::NF4, "nf4", 64, 36, true, dequantize_row_nf4},
    {DType::I8_CH, "i8_ch", 1, 1, true, dequantize_row_i8_channel, kChannelRowHeaderBytes},
    {DType::I8_CH_DYN, "i8_ch_dyn", 1, 1, true, dequantize_row_i8_channel, kChannelRowHeaderBytes},
    {DType::F8_E4M3_CH, "f8_e4m3_ch", 1, 1, true, dequantize_row_f8_e4m3_channel, kChannelRowHeaderBytes},
}};

constexpr bool traits_are_in_enum_order() {
  for (std::size_t i = 0; i < kTraits.size(); ++i) {
    if (static_cast<std::size_t>(kTraits[i].dtype) != i) return false;
  }
  return true;
}
static_assert(traits_are_in_enum_order(), "kTraits must list dtypes in enum order");

}  // namespace

const DTypeTraits& traits(DType dtype) {
  auto i = static_cast<std::size_t>(dtype);
  EAQ_CHECK(i < kTraits.size(), "dtype index {} out of range", i);
  return kTraits[i];
}

std::string_view dtype_name(DType dtype) { return traits(dtype).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTraits) {
    if (t.name == name) return t.dtype;
  }
  return std::nullopt;
}

std::size_t row_bytes(DType dtype, std::size_t n_elements) {
  const auto& t = traits(dtype);
  if (n_elements % t.block_size != 0) {
    fail("a row of {} elements is not a multiple of the {} block size {}", n_elements, t.name,
         t.block_size);
  }
  return t.row_header_bytes + n_elements / t.block_size * t.block_bytes;
}

void dequantize(DType dtype, const void* src, float* dst, std::size_t n_elements) {
  const auto& t = traits(dtype);
  if (t.dequantize_row == nullptr) fail("dtype {} cannot be converted to float", t.name);
  if (n_elements % t.block_size != 0) {
    fail("cannot dequantize {} elements of {}: not a multiple of the block size {}", n_elements,
         t.name, t.block_size);
  }
  t.dequantize_row(src, dst, n_elements);
}

void dequantize_rows(DType dtype, const void* src, float* dst, std::size_t rows, std::size_t row_length) {
  const std::size_t stride = row_bytes(dtype, row_length);  // throws for a partial block
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  if (traits(dtype).row_header_bytes == 0) return dequantize(dtype, src, dst, rows * row_length);
  for (std::size_t r = 0; r < rows; ++r) dequantize(dtype, bytes + r * stride, dst + r * row_length, row_length);
}

}  // namespace eaq
