// int4 group-wise round-to-nearest quantizers: symmetric (d = absmax / 7, q - 8 in [-7, 7]) and
// asymmetric with an integer zero-point (d = (max - min) / 15 over a range that includes 0).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/eaq_quant_blocks.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/weight_quantizers.h"

namespace eaq::quant {

namespace {

// Writes q[0..G) (values 0..15) in the chunk-of-32 nibble order of core/eaq_quant_blocks.h.
void pack_nibbles(const std::uint8_t* q, std::uint8_t* qs, int group) {
  for (int c = 0; c < group / 32; ++c) {
    for (int j = 0; j < 16; ++j) {
      qs[c * 16 + j] = static_cast<std::uint8_t>(q[c * 32 + j] | (q[c * 32 + j + 16] << 4));
    }
  }
}

void check_group(std::size_t n, int group) {
  if (group != 32 && group != 64 && group != 128) fail("int4 group size {} is not one of 32, 64, 128", group);
  if (n % static_cast<std::size_t>(group) != 0) {
    fail("int4-g{}: a row of {} weights is not a multiple of the group size; choose a smaller group", group, n);
  }
}

template <int G>
void quantize_i4s(const float* src, void* dst, std::size_t n) {
  auto* blocks = static_cast<block_i4s<G>*>(dst);
  std::uint8_t q[G];
  for (std::size_t b = 0; b < n / G; ++b) {
    const float* x = src + b * G;
    float absmax = 0.0f;
    for (int i = 0; i < G; ++i) absmax = std::max(absmax, std::fabs(x[i]));
    const std::uint16_t d_bits = f32_to_f16(absmax / 7.0f);
    const float d = f16_to_f32(d_bits);
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < G; ++i) {
      const float v = std::nearbyint(x[i] * inverse);
      q[i] = static_cast<std::uint8_t>(std::clamp(v, -8.0f, 7.0f) + 8.0f);
    }
    blocks[b].d = d_bits;
    pack_nibbles(q, blocks[b].qs, G);
  }
}

template <int G>
void quantize_i4z(const float* src, void* dst, std::size_t n) {
  auto* blocks = static_cast<block_i4z<G>*>(dst);
  std::uint8_t q[G];
  for (std::size_t b = 0; b < n / G; ++b) {
    const float* x = src + b * G;
    float lo = 0.0f, hi = 0.0f;  // the range always holds 0, so 0 is exact (z is an integer)
    for (int i = 0; i < G; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    const std::uint16_t d_bits = f32_to_f16((hi - lo) / 15.0f);
    const float d = f16_to_f32(d_bits);
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    const float z = d != 0.0f ? std::clamp(std::nearbyint(-lo / d), 0.0f, 15.0f) : 0.0f;
    for (int i = 0; i < G; ++i) {
      q[i] = static_cast<std::uint8_t>(std::clamp(std::nearbyint(x[i] * inverse) + z, 0.0f, 15.0f));
    }
    std::memcpy(blocks[b].d, &d_bits, 2);
    blocks[b].z = static_cast<std::uint8_t>(z);
    pack_nibbles(q, blocks[b].qs, G);
  }
}

}  // namespace

void quantize_row_i4s(const float* src, void* dst, std::size_t n, int group) {
  check_group(n, group);
  check_finite(src, n, "int4 (symmetric) quantizer");
  if (group == 32) quantize_i4s<32>(src, dst, n);
  else if (group == 64) quantize_i4s<64>(src, dst, n);
  else quantize_i4s<128>(src, dst, n);
}

void quantize_row_i4z(const float* src, void* dst, std::size_t n, int group) {
  check_group(n, group);
  check_finite(src, n, "int4 (zero-point) quantizer");
  if (group == 32) quantize_i4z<32>(src, dst, n);
  else if (group == 64) quantize_i4z<64>(src, dst, n);
  else quantize_i4z<128>(src, dst, n);
}

}  // namespace eaq::quant
