// Tests of core/half.h: f16, bf16 and fp8-e4m3 conversions against known IEEE bit patterns, the
// formats' defining formulas, and (where the compiler has it) the compiler's own _Float16.
#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace eaq {
namespace {

// The value an f16 bit pattern denotes, from the IEEE 754 definition (computed in double).
double f16_definition(std::uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa ? NAN : INFINITY;
  } else {
    v = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return sign ? -v : v;
}

TEST(HalfTest, F16KnownBitPatterns) {
  EXPECT_EQ(float_to_bits(f16_to_f32(0x0000)), 0x00000000u);
  EXPECT_EQ(float_to_bits(f16_to_f32(0x8000)), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);                   // largest finite
  EXPECT_EQ(f16_to_f32(0x0400), 6.103515625e-05f);           // smallest normal, 2^-14
  EXPECT_EQ(f16_to_f32(0x03ff), 6.097555160522461e-05f);     // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 5.960464477539063e-08f);     // smallest subnormal, 2^-24
  EXPECT_EQ(float_to_bits(f16_to_f32(0x7c00)), 0x7f800000u);  // +inf
  EXPECT_EQ(float_to_bits(f16_to_f32(0xfc00)), 0xff800000u);  // -inf
  EXPECT_EQ(float_to_bits(f16_to_f32(0x7e00)), 0x7fc00000u);  // quiet NaN
  EXPECT_EQ(float_to_bits(f16_to_f32(0x7c01)), 0x7f802000u);  // signalling NaN payload kept (as numpy)

  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7bff);   // below the rounding midpoint to inf
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);    // the midpoint rounds (to even) to inf
  EXPECT_EQ(f32_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);        // tie between 0x3c00 and 0x3c01: even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);    // tie between 0x3c01 and 0x3c02: even
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);  // just above the tie
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);               // tie between 0 and 2^-24: even (0)
  EXPECT_EQ(f32_to_f16(3 * 0x1p-25f), 0x0002);           // tie between 1 and 2 units: even
  EXPECT_EQ(f32_to_f16(0x1p-24f), 0x0001);
  EXPECT_EQ(f32_to_f16(0x1p-14f - 0x1p-25f), 0x0400);    // rounds up from subnormal to normal
  EXPECT_EQ(f32_to_f16(1e-10f), 0x0000);
  const std::uint16_t nan = f32_to_f16(NAN);
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
}

TEST(HalfTest, AllF16ValuesMatchTheDefinitionAndRoundTrip) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = f16_to_f32(h);
    const double expected = f16_definition(h);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << i;
      const std::uint16_t back = f32_to_f16(f);
      ASSERT_EQ(back & 0x7c00, 0x7c00) << std::hex << i;
      ASSERT_NE(back & 0x03ff, 0) << std::hex << i;  // still a NaN
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), expected) << std::hex << i;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << i;
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << i;
  }
}

// f32 → f16 must be the nearest f16, ties to even, for every float: checked against the
// definition on a dense sample that covers every exponent, and each rounding midpoint exactly.
TEST(HalfTest, F32ToF16IsNearestEven) {
  auto check = [](float x) {
    const std::uint16_t h = f32_to_f16(x);
    const double v = static_cast<double>(x);
    const double got = f16_definition(h);
    if (std::fabs(v) >= 65520.0) {
      ASSERT_TRUE(std::isinf(got) && std::signbit(got) == std::signbit(v)) << x;
      return;
    }
    // The neighbours of h in magnitude must not be nearer (and on a tie h must be even).
    const std::uint16_t mag = h & 0x7fff;
    for (int step : {-1, 1}) {
      const int other = static_cast<int>(mag) + step;
      if (other < 0 || other > 0x7bff) continue;
      const double alt = f16_definition(static_cast<std::uint16_t>(other | (h & 0x8000)));
      const double d_got = std::fabs(v - got), d_alt = std::fabs(v - alt);
      ASSERT_LE(d_got, d_alt) << "x=" << x << " h=" << h;
      if (d_got == d_alt) {
        ASSERT_EQ(mag & 1, 0) << "tie not to even: x=" << x;
      }
    }
  };
  for (std::uint64_t bits = 0; bits < 0x100000000ull; bits += 65521) {  // prime stride
    const float x = bits_to_float(static_cast<std::uint32_t>(bits));
    if (!std::isnan(x)) check(x);
  }
  for (std::uint32_t h = 0; h < 0x7bff; ++h) {  // every midpoint between neighbouring f16 values
    const double mid = (f16_definition(static_cast<std::uint16_t>(h)) +
                        f16_definition(static_cast<std::uint16_t>(h + 1))) / 2;
    check(static_cast<float>(mid));
    check(-static_cast<float>(mid));
  }
}

#if defined(__FLT16_MAX__)
// The compiler's _Float16 conversion (libgcc's correctly rounded soft-float) as a second reference.
TEST(HalfTest, F32ToF16MatchesCompilerFloat16) {
  for (std::uint64_t bits = 0; bits < 0x100000000ull; bits += 40009) {
    const float x = bits_to_float(static_cast<std::uint32_t>(bits));
    if (std::isnan(x)) continue;
    const _Float16 reference = static_cast<_Float16>(x);
    std::uint16_t reference_bits;
    std::memcpy(&reference_bits, &reference, 2);
    ASSERT_EQ(f32_to_f16(x), reference_bits) << "x=" << x;
  }
}
#endif

TEST(HalfTest, Bf16KnownBitPatternsAndRounding) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_bf16(bits_to_float(0x3f808000u)), 0x3f80);  // tie: even
  EXPECT_EQ(f32_to_bf16(bits_to_float(0x3f818000u)), 0x3f82);  // tie: even (up)
  EXPECT_EQ(f32_to_bf16(bits_to_float(0x3f808001u)), 0x3f81);  // above the tie
  EXPECT_EQ(f32_to_bf16(bits_to_float(0x7f7fffffu)), 0x7f80);  // max float rounds to inf
  EXPECT_EQ(f32_to_bf16(bits_to_float(0x7f800001u)), 0x7fc0);  // signalling NaN comes out quiet
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(float_to_bits(bf16_to_f32(0x8001)), 0x80010000u);
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto b = static_cast<std::uint16_t>(i);
    const float f = bf16_to_f32(b);
    ASSERT_EQ(float_to_bits(f), i << 16);
    if (!std::isnan(f)) {
      ASSERT_EQ(f32_to_bf16(f), b) << std::hex << i;
    }
  }
}

TEST(HalfTest, Fp8E4m3AllValuesMatchTheDefinition) {
  EXPECT_EQ(f8e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(f8e4m3_to_f32(0xfe), -448.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x01), 0x1p-9f);
  EXPECT_EQ(f8e4m3_to_f32(0x08), 0x1p-6f);
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0xff)));
  EXPECT_TRUE(std::signbit(f8e4m3_to_f32(0x80)));
  for (int v = 0; v < 256; ++v) {
    const int sign = v >> 7, exponent = (v >> 3) & 0xf, mantissa = v & 7;
    if (exponent == 15 && mantissa == 7) continue;  // NaN, checked above
    double expected = exponent == 0 ? std::ldexp(mantissa, -9) : std::ldexp(8 + mantissa, exponent - 10);
    if (sign) expected = -expected;
    ASSERT_EQ(static_cast<double>(f8e4m3_to_f32(static_cast<std::uint8_t>(v))), expected) << v;
  }
}

}  // namespace
}  // namespace eaq
