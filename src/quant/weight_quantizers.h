// Quantizers (pack) of eaq's own weight formats, one row at a time: int4 group-wise (symmetric
// or with a zero-point), NF4, int8 and fp8 e4m3 per output channel. The matching decoders
// (unpack) are core/dequantize_eaq_formats.h; the error bounds are in quant/scheme_registry.h.
// Every quantizer throws eaq::Error for a NaN or infinite input, naming the element.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eaq::quant {

// Throws eaq::Error if any of the n values is NaN or infinite ("where" names the tensor/row).
void check_finite(const float* src, std::size_t n, const char* where);

void quantize_row_i4s(const float* src, void* dst, std::size_t n, int group);  // group 32/64/128
void quantize_row_i4z(const float* src, void* dst, std::size_t n, int group);
void quantize_row_nf4(const float* src, void* dst, std::size_t n);
void quantize_row_i8_channel(const float* src, void* dst, std::size_t n);
void quantize_row_f8_e4m3_channel(const float* src, void* dst, std::size_t n);

// f32 → OCP fp8 e4m3 (round to nearest even; |x| must be <= 448).
std::uint8_t f32_to_f8e4m3(float x);

}  // namespace eaq::quant
