// Scalar reference decoders of eaq's own formats: the definition of what each format's bytes
// mean. The SIMD kernels (kernels/cpu/matmul_packed_cpu.cpp) are tested against these.
#include "core/dequantize_eaq_formats.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/eaq_quant_blocks.h"
#include "core/half.h"

namespace eaq {

namespace {

template <int G>
void dequantize_i4s(const void* src, float* dst, std::size_t n) {
  const auto* blocks = static_cast<const block_i4s<G>*>(src);
  for (std::size_t b = 0; b < n / G; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    for (std::size_t i = 0; i < static_cast<std::size_t>(G); ++i) {
      const int q = static_cast<int>(nibble_of_chunk(blocks[b].qs + (i / 32) * 16, i % 32));
      dst[b * G + i] = static_cast<float>(q - 8) * d;
    }
  }
}

template <int G>
void dequantize_i4z(const void* src, float* dst, std::size_t n) {
  const auto* blocks = static_cast<const block_i4z<G>*>(src);
  for (std::size_t b = 0; b < n / G; ++b) {
    std::uint16_t d_bits;
    std::memcpy(&d_bits, blocks[b].d, 2);
    const float d = f16_to_f32(d_bits);
    const int z = blocks[b].z;
    for (std::size_t i = 0; i < static_cast<std::size_t>(G); ++i) {
      const int q = static_cast<int>(nibble_of_chunk(blocks[b].qs + (i / 32) * 16, i % 32));
      dst[b * G + i] = static_cast<float>(q - z) * d;
    }
  }
}

}  // namespace

void dequantize_row_i4s_g32(const void* s, float* d, std::size_t n) { dequantize_i4s<32>(s, d, n); }
void dequantize_row_i4s_g64(const void* s, float* d, std::size_t n) { dequantize_i4s<64>(s, d, n); }
void dequantize_row_i4s_g128(const void* s, float* d, std::size_t n) { dequantize_i4s<128>(s, d, n); }
void dequantize_row_i4z_g32(const void* s, float* d, std::size_t n) { dequantize_i4z<32>(s, d, n); }
void dequantize_row_i4z_g64(const void* s, float* d, std::size_t n) { dequantize_i4z<64>(s, d, n); }
void dequantize_row_i4z_g128(const void* s, float* d, std::size_t n) { dequantize_i4z<128>(s, d, n); }

void dequantize_row_nf4(const void* src, float* dst, std::size_t n) {
  // Read through bytes: a block_nf4 in a padded row need not be 4-byte aligned (UBSan).
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  for (std::size_t b = 0; b < n / kQKNf4; ++b) {
    const std::uint8_t* block = bytes + b * sizeof(block_nf4);
    float absmax = 0.0f;
    std::memcpy(&absmax, block + offsetof(block_nf4, absmax), sizeof(absmax));
    for (std::size_t i = 0; i < static_cast<std::size_t>(kQKNf4); ++i) {
      dst[b * kQKNf4 + i] = kNf4Codebook[nibble_of_chunk(block + offsetof(block_nf4, qs) + (i / 32) * 16, i % 32)] * absmax;
    }
  }
}

void dequantize_row_i8_channel(const void* src, float* dst, std::size_t n) {
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  float scale;
  std::memcpy(&scale, bytes, sizeof(float));
  const auto* q = reinterpret_cast<const std::int8_t*>(bytes + kChannelRowHeaderBytes);
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(q[i]) * scale;
}

void dequantize_row_f8_e4m3_channel(const void* src, float* dst, std::size_t n) {
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  float scale;
  std::memcpy(&scale, bytes, sizeof(float));
  const std::uint8_t* q = bytes + kChannelRowHeaderBytes;
  for (std::size_t i = 0; i < n; ++i) dst[i] = f8e4m3_to_f32(q[i]) * scale;
}

}  // namespace eaq
