// GGUF quantized block layouts, field for field as ggml/src/ggml-common.h lays them out. This is
// the one definition shared by the CPU and CUDA kernels: plain structs of fixed-width integers (f16
// fields are raw uint16_t bits, decoded with core/half.h), no C++ library types, so nvcc takes it
// as is. The static_asserts pin the on-disk sizes.
#pragma once

#include <stdint.h>

namespace eaq {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK_K = 256;          // weights per K-quant super-block
inline constexpr int kKScaleSize = 12;     // packed 6-bit scales and mins of q4_K / q5_K

// value = (q - 8) * d; qs[j] holds element j in its low nibble and element j + 16 in its high one.
struct block_q4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");

// value = q * d + m, nibbles as in q4_0.
struct block_q4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 must be 20 bytes");

// value = (q - 16) * d; the fifth bit of element j is bit j of qh (little-endian uint32).
struct block_q5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22, "block_q5_0 must be 22 bytes");

// value = q * d + m, bits as in q5_0.
struct block_q5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24, "block_q5_1 must be 24 bytes");

// value = q * d.
struct block_q8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");

// 16 sub-blocks of 16 weights; scales[i] = (min << 4) | scale; value = d*scale*q - dmin*min.
struct block_q2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(block_q2_K) == 2 * 2 + kQK_K / 16 + kQK_K / 4, "block_q2_K must be 84 bytes");

// 16 sub-blocks of 16; 2 low bits in qs, the high bit in hmask (set = no -4 offset), 6-bit signed
// scales (offset 32) packed into 12 bytes.
struct block_q3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(block_q3_K) == 2 + kQK_K / 4 + kQK_K / 8 + 12, "block_q3_K must be 110 bytes");

// 8 sub-blocks of 32; 6-bit scales and mins packed into 12 bytes; value = d*sc*q - dmin*m.
struct block_q4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(block_q4_K) == 2 * 2 + kKScaleSize + kQK_K / 2, "block_q4_K must be 144 bytes");

// As q4_K with a fifth bit per weight in qh.
struct block_q5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(block_q5_K) == 2 * 2 + kKScaleSize + kQK_K / 2 + kQK_K / 8,
              "block_q5_K must be 176 bytes");

// 16 sub-blocks of 16; 4 low bits in ql, 2 high bits in qh, int8 scales; value = d*scale*(q - 32).
struct block_q6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(block_q6_K) == 2 + kQK_K / 16 + 3 * kQK_K / 4, "block_q6_K must be 210 bytes");

// The activation format of K-quant dot products: f32 scale, int8 weights, sums of groups of 16.
struct block_q8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(block_q8_K) == 4 + kQK_K + kQK_K / 16 * 2, "block_q8_K must be 292 bytes");

}  // namespace eaq
