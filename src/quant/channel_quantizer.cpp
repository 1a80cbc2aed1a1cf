// Per-output-channel quantizers: int8 (scale = absmax / 127, round to nearest) and fp8 e4m3
// (scale = absmax / 448, round to nearest even). The row starts with its f32 scale.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/eaq_quant_blocks.h"
#include "core/error.h"
#include "quant/weight_quantizers.h"

namespace eaq::quant {

void check_finite(const float* src, std::size_t n, const char* where) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(src[i])) {
      fail("{}: element {} of the row is {}; quantization needs finite weights — the model file is "
           "damaged or was saved with overflowed values", where, i, src[i]);
    }
  }
}

namespace {

float absmax_of(const float* src, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(src[i]));
  return m;
}

}  // namespace

void quantize_row_i8_channel(const float* src, void* dst, std::size_t n) {
  check_finite(src, n, "int8 quantizer");
  auto* bytes = static_cast<std::uint8_t*>(dst);
  const float scale = absmax_of(src, n) / 127.0f;
  std::memcpy(bytes, &scale, sizeof(float));
  // Divide rather than multiply by 1 / scale: the reciprocal of a denormal scale overflows.
  auto scaled = [scale](float x) { return scale != 0.0f ? x / scale : 0.0f; };
  auto* q = reinterpret_cast<std::int8_t*>(bytes + kChannelRowHeaderBytes);
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = static_cast<std::int8_t>(std::clamp(std::nearbyint(scaled(src[i])), -127.0f, 127.0f));
  }
}

std::uint8_t f32_to_f8e4m3(float x) {
  const std::uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  const float a = std::fabs(x);
  if (!(a <= 448.0f)) fail("fp8 e4m3: {} is outside the representable range ±448", x);
  if (a < 0.015625f) {  // below the smallest normal 2^-6: subnormal steps of 2^-9
    const int m = static_cast<int>(std::nearbyint(a * 512.0f));  // 0..8; 8 = the smallest normal
    return static_cast<std::uint8_t>(sign | m);
  }
  int e;
  const float fraction = std::frexp(a, &e);  // a = fraction * 2^e, fraction in [0.5, 1)
  int m = static_cast<int>(std::nearbyint((fraction * 2.0f - 1.0f) * 8.0f));
  int exponent = e - 1 + 7;
  if (m == 8) {
    m = 0;
    ++exponent;
  }
  return static_cast<std::uint8_t>(sign | (exponent << 3) | m);
}

void quantize_row_f8_e4m3_channel(const float* src, void* dst, std::size_t n) {
  check_finite(src, n, "fp8 e4m3 quantizer");
  auto* bytes = static_cast<std::uint8_t*>(dst);
  const float scale = absmax_of(src, n) / 448.0f;
  std::memcpy(bytes, &scale, sizeof(float));
  std::uint8_t* q = bytes + kChannelRowHeaderBytes;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = scale != 0.0f ? src[i] / scale : 0.0f;
    q[i] = f32_to_f8e4m3(std::clamp(v, -448.0f, 448.0f));  // |v| may round a hair above 448
  }
}

}  // namespace eaq::quant
