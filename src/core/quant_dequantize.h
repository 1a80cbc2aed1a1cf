// Scalar reference decoders of the GGUF block formats (bit-exact with ggml's dequantize_row_*).
// Each converts n_elements (a multiple of the format's block size) at src into dst.
#pragma once

#include <cstddef>

namespace eaq {

void dequantize_row_q8_0(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q4_0(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q4_1(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q5_0(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q5_1(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q2_k(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q3_k(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q4_k(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q5_k(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q6_k(const void* src, float* dst, std::size_t n_elements);
void dequantize_row_q8_k(const void* src, float* dst, std::size_t n_elements);

}  // namespace eaq
