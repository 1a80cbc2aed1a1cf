// Scalar reference decoders of the 32-weight GGUF formats q8_0, q4_0, q4_1, q5_0, q5_1, written
// after ggml's dequantize_row_* and bit-exact with it and with gguf.quants.dequantize.
#include <cstring>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quant_dequantize.h"

// Bit-exactness with the references needs each multiply and add rounded on its own: a fused
// multiply-add (allowed by default when compiling for FMA targets) would change the last bit.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace eaq {

void dequantize_row_q8_0(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q8_0*>(src);
  const std::size_t n_blocks = n_elements / kQK8_0;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    float* y = dst + b * kQK8_0;
    for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

void dequantize_row_q4_0(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q4_0*>(src);
  const std::size_t n_blocks = n_elements / kQK4_0;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    float* y = dst + b * kQK4_0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int x0 = (blocks[b].qs[j] & 0x0f) - 8;
      const int x1 = (blocks[b].qs[j] >> 4) - 8;
      y[j] = static_cast<float>(x0) * d;
      y[j + kQK4_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_row_q4_1(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q4_1*>(src);
  const std::size_t n_blocks = n_elements / kQK4_1;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    float* y = dst + b * kQK4_1;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int x0 = blocks[b].qs[j] & 0x0f;
      const int x1 = blocks[b].qs[j] >> 4;
      y[j] = static_cast<float>(x0) * d + m;
      y[j + kQK4_1 / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void dequantize_row_q5_0(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q5_0*>(src);
  const std::size_t n_blocks = n_elements / kQK5_0;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    std::uint32_t qh;
    std::memcpy(&qh, blocks[b].qh, sizeof(qh));
    float* y = dst + b * kQK5_0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const std::uint8_t xh0 = ((qh >> j) << 4) & 0x10;
      const std::uint8_t xh1 = (qh >> (j + 12)) & 0x10;
      const int x0 = ((blocks[b].qs[j] & 0x0f) | xh0) - 16;
      const int x1 = ((blocks[b].qs[j] >> 4) | xh1) - 16;
      y[j] = static_cast<float>(x0) * d;
      y[j + kQK5_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_row_q5_1(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q5_1*>(src);
  const std::size_t n_blocks = n_elements / kQK5_1;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    std::uint32_t qh;
    std::memcpy(&qh, blocks[b].qh, sizeof(qh));
    float* y = dst + b * kQK5_1;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const std::uint8_t xh0 = ((qh >> j) << 4) & 0x10;
      const std::uint8_t xh1 = (qh >> (j + 12)) & 0x10;
      const int x0 = (blocks[b].qs[j] & 0x0f) | xh0;
      const int x1 = (blocks[b].qs[j] >> 4) | xh1;
      y[j] = static_cast<float>(x0) * d + m;
      y[j + kQK5_1 / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

}  // namespace eaq
