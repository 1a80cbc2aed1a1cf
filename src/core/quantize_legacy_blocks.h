// Reference quantizers of the 32-weight GGUF formats q8_0, q4_0, q4_1, q5_0, q5_1: byte for byte
// what gguf.quants.quantize (and ggml's quantize_row_*_ref) produce for finite input.
#pragma once

#include <cstddef>

namespace eaq {

// Each quantizes n_elements floats at src (a multiple of 32) into n_elements / 32 blocks at dst
// (core/quant_blocks.h). Throws eaq::Error if n_elements is not a multiple of 32 or a value is
// NaN or infinite (the references give meaningless blocks there).
void quantize_row_q8_0(const float* src, void* dst, std::size_t n_elements);
void quantize_row_q4_0(const float* src, void* dst, std::size_t n_elements);
void quantize_row_q4_1(const float* src, void* dst, std::size_t n_elements);
void quantize_row_q5_0(const float* src, void* dst, std::size_t n_elements);
void quantize_row_q5_1(const float* src, void* dst, std::size_t n_elements);

}  // namespace eaq
