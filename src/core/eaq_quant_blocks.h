// Block and row layouts of eaq's own weight formats (the GGUF ones are in core/quant_blocks.h):
// int4 group-wise (symmetric or with an integer zero-point, groups of 32/64/128), NF4 (blocks of
// 64, bitsandbytes' codebook), and per-output-channel int8 / fp8 rows that carry their scale in a
// row header. Shared by the CPU (and later CUDA) kernels; static_asserts pin the sizes.
//
// Nibble order (all 4-bit formats here): a group is cut into chunks of 32 weights stored in 16
// bytes, byte j holding element j in its low nibble and element j + 16 in its high one — the
// q4_0 order, so one SIMD unpacking routine serves q4_0, q4_1 and these.
#pragma once

#include <stdint.h>

namespace eaq {

// value = (q - 8) * d, q in [0, 15] (the quantizer uses [1, 15]: d = absmax / 7, symmetric).
template <int G>
struct block_i4s {
  uint16_t d;  // f16
  uint8_t qs[G / 2];
};
// value = (q - z) * d, q and z in [0, 15] (asymmetric: d = (max - min) / 15, z = round(-min / d)).
// d is stored as two bytes (little-endian f16) so the 19/35/67-byte blocks need no alignment.
template <int G>
struct block_i4z {
  uint8_t d[2];  // f16
  uint8_t z;
  uint8_t qs[G / 2];
};
static_assert(sizeof(block_i4s<32>) == 18 && sizeof(block_i4s<64>) == 34 && sizeof(block_i4s<128>) == 66);
static_assert(sizeof(block_i4z<32>) == 19 && sizeof(block_i4z<64>) == 35 && sizeof(block_i4z<128>) == 67);

inline constexpr int kQKNf4 = 64;
// value = kNf4Codebook[q] * absmax (bitsandbytes' blockwise 4-bit NormalFloat, blocksize 64,
// without double quantization of absmax).
struct block_nf4 {
  float absmax;
  uint8_t qs[kQKNf4 / 2];
};
static_assert(sizeof(block_nf4) == 36);

// bitsandbytes' NF4 code (bitsandbytes/functional.py get_4bit_type("nf4"), QLoRA paper Appendix E).
inline constexpr float kNf4Codebook[16] = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

// Per-output-channel rows (int8 and fp8 e4m3): a 4-byte f32 scale, then one code per weight.
// value = code * scale (code an int8, or an e4m3 value).
inline constexpr int kChannelRowHeaderBytes = 4;

}  // namespace eaq
