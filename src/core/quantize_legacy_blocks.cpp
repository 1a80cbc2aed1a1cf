// Reference quantizers of q8_0, q4_0, q4_1, q5_0, q5_1, following gguf.quants (numpy) and ggml's
// quantize_row_*_ref step by step: the scale d and its inverse id are computed in f32 from the
// f32 extremes (not from the f16-rounded d), q8_0 rounds half away from zero, the 4- and 5-bit
// formats add 0.5 (plus the zero point) and truncate, then clamp to the top code.
#include "core/quantize_legacy_blocks.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"

// The references round every multiply and add on its own; keep the compiler from fusing them.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace eaq {

namespace {

void check_input(const float* src, std::size_t n_elements, const char* format) {
  if (n_elements % 32 != 0) {
    fail("cannot quantize {} values to {}: the count must be a multiple of the block size 32",
         n_elements, format);
  }
  for (std::size_t i = 0; i < n_elements; ++i) {
    if (!std::isfinite(src[i])) {
      fail("cannot quantize to {}: value {} (index {}) is not finite; fix the source weights",
           format, src[i], i);
    }
  }
}

// The signed value of largest magnitude (the first one on ties), as numpy's argmax picks it.
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline float inverse_or_zero(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// trunc(v) clamped to [0, top], as the references' truncating conversion then clip do. NaN (from
// 0 * inf when a block's range is so tiny that 1/d overflows) gives 0 instead of undefined
// behaviour.
inline std::uint8_t truncate_to_code(float v, int top) {
  if (!(v >= 0.0f)) return 0;
  if (v >= static_cast<float>(top)) return static_cast<std::uint8_t>(top);
  return static_cast<std::uint8_t>(static_cast<int>(v));
}

// round(v) half away from zero, into int8; saturates (and NaN gives 0) for the same tiny blocks.
inline std::int8_t round_to_int8(float v) {
  if (!(v == v)) return 0;
  const float r = std::round(v);
  if (r >= 127.0f) return 127;
  if (r <= -128.0f) return -128;
  return static_cast<std::int8_t>(r);
}

}  // namespace

void quantize_row_q8_0(const float* src, void* dst, std::size_t n_elements) {
  check_input(src, n_elements, "q8_0");
  auto* blocks = static_cast<block_q8_0*>(dst);
  for (std::size_t b = 0; b < n_elements / kQK8_0; ++b) {
    const float* x = src + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK8_0; ++j) {
      blocks[b].qs[j] = round_to_int8(x[j] * id);
    }
  }
}

void quantize_row_q4_0(const float* src, void* dst, std::size_t n_elements) {
  check_input(src, n_elements, "q4_0");
  auto* blocks = static_cast<block_q4_0*>(dst);
  for (std::size_t b = 0; b < n_elements / kQK4_0; ++b) {
    const float* x = src + b * kQK4_0;
    const float d = signed_absmax(x) / -8.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const std::uint8_t q0 = truncate_to_code(x[j] * id + 8.5f, 15);
      const std::uint8_t q1 = truncate_to_code(x[j + kQK4_0 / 2] * id + 8.5f, 15);
      blocks[b].qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* src, void* dst, std::size_t n_elements) {
  check_input(src, n_elements, "q4_1");
  auto* blocks = static_cast<block_q4_1*>(dst);
  for (std::size_t b = 0; b < n_elements / kQK4_1; ++b) {
    const float* x = src + b * kQK4_1;
    float min = x[0], max = x[0];
    for (int j = 1; j < kQK4_1; ++j) {
      min = std::fmin(min, x[j]);
      max = std::fmax(max, x[j]);
    }
    const float d = (max - min) / 15.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const std::uint8_t q0 = truncate_to_code((x[j] - min) * id + 0.5f, 15);
      const std::uint8_t q1 = truncate_to_code((x[j + kQK4_1 / 2] - min) * id + 0.5f, 15);
      blocks[b].qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* src, void* dst, std::size_t n_elements) {
  check_input(src, n_elements, "q5_0");
  auto* blocks = static_cast<block_q5_0*>(dst);
  for (std::size_t b = 0; b < n_elements / kQK5_0; ++b) {
    const float* x = src + b * kQK5_0;
    const float d = signed_absmax(x) / -16.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const std::uint8_t q0 = truncate_to_code(x[j] * id + 16.5f, 31);
      const std::uint8_t q1 = truncate_to_code(x[j + kQK5_0 / 2] * id + 16.5f, 31);
      blocks[b].qs[j] = static_cast<std::uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= static_cast<std::uint32_t>((q0 & 0x10) >> 4) << j;
      qh |= static_cast<std::uint32_t>((q1 & 0x10) >> 4) << (j + kQK5_0 / 2);
    }
    std::memcpy(blocks[b].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q5_1(const float* src, void* dst, std::size_t n_elements) {
  check_input(src, n_elements, "q5_1");
  auto* blocks = static_cast<block_q5_1*>(dst);
  for (std::size_t b = 0; b < n_elements / kQK5_1; ++b) {
    const float* x = src + b * kQK5_1;
    float min = x[0], max = x[0];
    for (int j = 1; j < kQK5_1; ++j) {
      min = std::fmin(min, x[j]);
      max = std::fmax(max, x[j]);
    }
    const float d = (max - min) / 31.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const std::uint8_t q0 = truncate_to_code((x[j] - min) * id + 0.5f, 31);
      const std::uint8_t q1 = truncate_to_code((x[j + kQK5_1 / 2] - min) * id + 0.5f, 31);
      blocks[b].qs[j] = static_cast<std::uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= static_cast<std::uint32_t>((q0 & 0x10) >> 4) << j;
      qh |= static_cast<std::uint32_t>((q1 & 0x10) >> 4) << (j + kQK5_1 / 2);
    }
    std::memcpy(blocks[b].qh, &qh, sizeof(qh));
  }
}

}  // namespace eaq
