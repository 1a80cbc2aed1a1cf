// Scalar, exact conversions between float and f16 / bf16 / fp8-e4m3 (round to nearest even).
#pragma once

#include <cstdint>
#include <cstring>

namespace eaq {

inline float bits_to_float(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline std::uint32_t float_to_bits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

// IEEE binary16 → float, exact for every input (subnormals, inf, NaN).
inline float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    if (mantissa == 0) return bits_to_float(sign);
    // Subnormal: value = mantissa * 2^-24.
    float v = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exponent == 31) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// float → IEEE binary16, round to nearest even, overflow to inf, NaN kept quiet.
inline std::uint16_t f32_to_f16(float f) {
  std::uint32_t x = float_to_bits(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (x > 0x7f800000u ? 0x200u : 0));
  if (x >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (x < 0x38800000u) {  // result is subnormal or zero
    float v = bits_to_float(x) * 16777216.0f;  // exact scaling into integer units of 2^-24
    // nearbyint with round-to-nearest-even under the default FP environment.
    float r = __builtin_nearbyintf(v);
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(r));
  }
  std::uint32_t rounded = x + 0xfffu + ((x >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
}

inline float bf16_to_f32(std::uint16_t b) { return bits_to_float(static_cast<std::uint32_t>(b) << 16); }

inline std::uint16_t f32_to_bf16(float f) {
  std::uint32_t x = float_to_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(x >> 16);
}

// OCP fp8 E4M3 (the "fn" variant: no inf, 0x7f/0xff are NaN, max 448) → float.
inline float f8e4m3_to_f32(std::uint8_t v) {
  const std::uint32_t sign = static_cast<std::uint32_t>(v & 0x80u) << 24;
  const std::uint32_t exponent = (v >> 3) & 0xfu;
  const std::uint32_t mantissa = v & 0x7u;
  if (exponent == 0xf && mantissa == 0x7) return bits_to_float(sign | 0x7fc00000u);
  if (exponent == 0) {
    float m = static_cast<float>(mantissa) * (1.0f / 512.0f);  // mantissa * 2^-9
    return sign ? -m : m;
  }
  return bits_to_float(sign | ((exponent + 120u) << 23) | (mantissa << 20));
}

}  // namespace eaq
