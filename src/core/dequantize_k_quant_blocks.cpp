// Scalar reference decoders of the 256-weight K-quant formats q2_K, q3_K, q4_K, q5_K, q6_K and
// q8_K, written after ggml's dequantize_row_* and bit-exact with it and with
// gguf.quants.dequantize (same products in the same order: (d * scale) * q - dmin * min).
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

namespace {

// The 6-bit scale and min of sub-block j (0..7) of q4_K / q5_K, unpacked from 12 bytes.
inline void scale_min_k4(int j, const std::uint8_t* q, std::uint8_t* scale, std::uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<std::uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The signed 6-bit scale of sub-block i (0..15) of q3_K: low 4 bits from bytes 0..7 (low nibbles
// for 0..7, high nibbles for 8..15), high 2 bits from bytes 8..11.
inline int scale_q3_k(int i, const std::uint8_t* scales) {
  const int low = i < 8 ? (scales[i] & 0x0f) : (scales[i - 8] >> 4);
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (low | (high << 4)) - 32;
}

}  // namespace

void dequantize_row_q2_k(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q2_K*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const block_q2_K& x = blocks[b];
    const float d = f16_to_f32(x.d);
    const float dmin = f16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    const std::uint8_t* q = x.qs;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const std::uint8_t sc = x.scales[is++];
          const float dl = d * static_cast<float>(sc & 0x0f);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) {
            *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
          }
        }
      }
      q += 32;
    }
  }
}

void dequantize_row_q3_k(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q3_K*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const block_q3_K& x = blocks[b];
    const float d_all = f16_to_f32(x.d);
    float* y = dst + b * kQK_K;
    const std::uint8_t* q = x.qs;
    const std::uint8_t* hm = x.hmask;
    std::uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(scale_q3_k(is++, x.scales));
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int value = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(value);
          }
        }
        m = static_cast<std::uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

void dequantize_row_q4_k(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q4_K*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const block_q4_K& x = blocks[b];
    const float d = f16_to_f32(x.d);
    const float dmin = f16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    const std::uint8_t* q = x.qs;
    for (int is = 0; is < 8; is += 2) {
      std::uint8_t sc, mn;
      scale_min_k4(is, x.scales, &sc, &mn);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(mn);
      scale_min_k4(is + 1, x.scales, &sc, &mn);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(mn);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
      q += 32;
    }
  }
}

void dequantize_row_q5_k(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q5_K*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const block_q5_K& x = blocks[b];
    const float d = f16_to_f32(x.d);
    const float dmin = f16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    const std::uint8_t* ql = x.qs;
    const std::uint8_t* qh = x.qh;
    unsigned u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2) {
      std::uint8_t sc, mn;
      scale_min_k4(is, x.scales, &sc, &mn);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(mn);
      scale_min_k4(is + 1, x.scales, &sc, &mn);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(mn);
      for (int l = 0; l < 32; ++l) {
        *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      }
      ql += 32;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

void dequantize_row_q6_k(const void* src, float* dst, std::size_t n_elements) {
  const auto* blocks = static_cast<const block_q6_K*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const block_q6_K& x = blocks[b];
    const float d = f16_to_f32(x.d);
    float* y = dst + b * kQK_K;
    const std::uint8_t* ql = x.ql;
    const std::uint8_t* qh = x.qh;
    const std::int8_t* sc = x.scales;
    for (int n = 0; n < kQK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void dequantize_row_q8_k(const void* src, float* dst, std::size_t n_elements) {
  // Q8_K blocks are 292 bytes with a float scale; rows inside a padded buffer need not be 4-byte
  // aligned, so the block is read through bytes (memcpy) rather than through a struct pointer.
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  const std::size_t n_blocks = n_elements / kQK_K;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const std::uint8_t* block = bytes + b * sizeof(block_q8_K);
    float d = 0.0f;
    std::memcpy(&d, block + offsetof(block_q8_K, d), sizeof(d));
    const auto* qs = reinterpret_cast<const std::int8_t*>(block + offsetof(block_q8_K, qs));
    float* y = dst + b * kQK_K;
    for (int j = 0; j < kQK_K; ++j) y[j] = d * static_cast<float>(qs[j]);
  }
}

}  // namespace eaq
