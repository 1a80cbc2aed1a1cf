// Scalar reference decoders of eaq's own weight formats (core/eaq_quant_blocks.h). Each converts
// n_elements at src into dst; the block formats take any multiple of their block size, the
// per-channel ones (row header) exactly one row.
#pragma once

#include <cstddef>

namespace eaq {

void dequantize_row_i4s_g32(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i4s_g64(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i4s_g128(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i4z_g32(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i4z_g64(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i4z_g128(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_nf4(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_i8_channel(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_f8_e4m3_channel(const void* src, float* dst, std::size_t n_elements);

// Element i (0 <= i < 32) of a 32-weight nibble chunk in q4_0 order (see eaq_quant_blocks.h).
inline unsigned nibble_of_chunk(const unsigned char* chunk16, std::size_t i) {
  return i < 16 ? (chunk16[i] & 0x0Fu) : (chunk16[i - 16] >> 4);
}

}  // namespace eaq
