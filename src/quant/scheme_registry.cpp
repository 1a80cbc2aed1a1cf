// The scheme table, the quantize_row dispatcher and the error bounds. The bounds follow from each
// quantizer's arithmetic (see the comments); tests/unit/quant checks them on random and
// adversarial rows.
#include "quant/scheme_registry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/half.h"
#include "core/quantize_legacy_blocks.h"
#include "quant/weight_quantizers.h"

namespace eaq::quant {

namespace {

// The weights a bound depends on: the row for per-channel formats, else the element's block.
struct Span {
  const float* p;
  std::size_t n;
};
Span block_of(const float* row, std::size_t n, std::size_t i, std::size_t block) {
  if (block == 0) return {row, n};
  const std::size_t b = i / block * block;
  return {row + b, block};
}
float absmax(Span s) {
  float m = 0.0f;
  for (std::size_t i = 0; i < s.n; ++i) m = std::max(m, std::fabs(s.p[i]));
  return m;
}
float min_of(Span s) { return *std::min_element(s.p, s.p + s.n); }
float max_of(Span s) { return *std::max_element(s.p, s.p + s.n); }

int group_of(DType d) {
  switch (d) {
    case DType::I4S_G32: case DType::I4Z_G32: return 32;
    case DType::I4S_G64: case DType::I4Z_G64: return 64;
    default: return 128;
  }
}

}  // namespace

const std::vector<Scheme>& schemes() {
  static const std::vector<Scheme> table = {
      {"f32", DType::F32, DType::F32, "0", "f32 FMA"},
      {"fp16", DType::F16, DType::F16, "|w|·2^-11 + 2^-25 (|w| ≤ 65504)", "f16→f32 in registers, f32 FMA"},
      {"bf16", DType::BF16, DType::BF16, "|w|·2^-8", "bf16→f32 in registers, f32 FMA"},
      {"fp8-e4m3", DType::F8_E4M3_CH, DType::F8_E4M3_CH, "|w|·2^-4 + s·2^-10, s = row absmax/448",
       "e4m3→f32 bit shift in registers, f32 FMA, × row scale"},
      {"int8", DType::I8_CH, DType::I8_CH, "s/2, s = row absmax/127", "W8A16: int8→f32 in registers, f32 FMA, × row scale"},
      {"int8-dyn", DType::I8_CH_DYN, DType::I8_CH_DYN, "s/2 (weights); activations add |x|max/254 per token",
       "W8A8: activations → int8 per token, int16 multiply-add (vpmaddwd), int32 sums"},
      {"int4-g32", DType::I4S_G32, DType::I8_CH, "a/14, a = group absmax", "nibbles→f32 in registers, f32 FMA, × group scale"},
      {"int4-g64", DType::I4S_G64, DType::I8_CH, "a/14, a = group absmax", "as int4-g32"},
      {"int4-g128", DType::I4S_G128, DType::I8_CH, "a/14, a = group absmax", "as int4-g32"},
      {"int4-g32-zp", DType::I4Z_G32, DType::I8_CH, "d/2, d = group range (incl. 0)/15", "as int4-g32, zero-point subtracted in int32"},
      {"int4-g64-zp", DType::I4Z_G64, DType::I8_CH, "d/2, d = group range (incl. 0)/15", "as int4-g32-zp"},
      {"int4-g128-zp", DType::I4Z_G128, DType::I8_CH, "d/2, d = group range (incl. 0)/15", "as int4-g32-zp"},
      {"nf4", DType::NF4, DType::I8_CH, "0.152·a, a = block absmax (half the widest code gap)",
       "codebook lookup in registers, f32 FMA, × block absmax"},
      {"q8_0", DType::Q8_0, DType::Q8_0, "0.57·d, d = block absmax/127", "int8→f32 in registers, f32 FMA, × block scale"},
      {"q4_0", DType::Q4_0, DType::Q8_0, "1.01·a/8, a = block absmax", "nibbles→f32 in registers, f32 FMA"},
      {"q4_1", DType::Q4_1, DType::Q8_0, "0.51·d + |min|·2^-11, d = block range/15", "nibbles→f32, f32 FMA, + min·Σx"},
  };
  return table;
}

const Scheme* find_scheme(std::string_view name) {
  for (const auto& s : schemes()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string scheme_names() {
  std::string out;
  for (const auto& s : schemes()) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

bool can_quantize_to(DType d) {
  switch (d) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0: case DType::Q4_1:
    case DType::Q5_0: case DType::Q5_1: case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128:
    case DType::I4Z_G32: case DType::I4Z_G64: case DType::I4Z_G128: case DType::NF4: case DType::I8_CH:
    case DType::I8_CH_DYN: case DType::F8_E4M3_CH:
      return true;
    default:
      return false;
  }
}

void quantize_row(DType dtype, const float* src, void* dst, std::size_t n) {
  const auto& t = traits(dtype);
  if (n % t.block_size != 0) {
    fail("cannot quantize a row of {} weights to {}: not a multiple of its block size {}", n, t.name, t.block_size);
  }
  switch (dtype) {
    case DType::F32: {
      check_finite(src, n, "f32");
      std::copy(src, src + n, static_cast<float*>(dst));
      return;
    }
    case DType::F16: {
      check_finite(src, n, "fp16 conversion");
      auto* d = static_cast<std::uint16_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) {
        if (std::fabs(src[i]) > 65504.0f) {
          fail("fp16 conversion: element {} = {} is outside the f16 range ±65504; use bf16", i, src[i]);
        }
        d[i] = f32_to_f16(src[i]);
      }
      return;
    }
    case DType::BF16: {
      check_finite(src, n, "bf16 conversion");
      auto* d = static_cast<std::uint16_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0: quantize_row_q8_0(src, dst, n); return;  // these check finiteness themselves
    case DType::Q4_0: quantize_row_q4_0(src, dst, n); return;
    case DType::Q4_1: quantize_row_q4_1(src, dst, n); return;
    case DType::Q5_0: quantize_row_q5_0(src, dst, n); return;
    case DType::Q5_1: quantize_row_q5_1(src, dst, n); return;
    case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128:
      quantize_row_i4s(src, dst, n, group_of(dtype));
      return;
    case DType::I4Z_G32: case DType::I4Z_G64: case DType::I4Z_G128:
      quantize_row_i4z(src, dst, n, group_of(dtype));
      return;
    case DType::NF4: quantize_row_nf4(src, dst, n); return;
    case DType::I8_CH: case DType::I8_CH_DYN: quantize_row_i8_channel(src, dst, n); return;
    case DType::F8_E4M3_CH: quantize_row_f8_e4m3_channel(src, dst, n); return;
    default:
      fail("eaq cannot quantize weights to {}; choose one of the schemes: {}", t.name, scheme_names());
  }
}

double quantization_error_bound(DType dtype, const float* row, std::size_t n, std::size_t i) {
  const double w = std::fabs(static_cast<double>(row[i]));
  constexpr double kTiny = 1.0 / (1 << 20) / (1 << 1);  // 2^-21: f16 subnormal effects on stored scales
  switch (dtype) {
    case DType::F32: return 0.0;
    case DType::F16: return w * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);
    case DType::BF16: return w * std::ldexp(1.0, -8) + std::ldexp(1.0, -133);
    case DType::F8_E4M3_CH: {
      // e4m3 keeps 3 mantissa bits (relative rounding 2^-4); below 2^-6 · s the step is 2^-9 · s.
      const double a = absmax({row, n}), s = a / 448.0;
      return w * std::ldexp(1.0, -4) * (1 + 1e-6) + s * std::ldexp(1.0, -10) + a * std::ldexp(1.0, -22);
    }
    case DType::I8_CH: case DType::I8_CH_DYN: {
      const double a = absmax({row, n});
      return a / 127.0 / 2.0 + a * std::ldexp(1.0, -22);
    }
    case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128: {
      // d = f16(a / 7): |w / d| <= 7 / (1 - 2^-11) never reaches the clamp, so the error is d/2.
      const double a = absmax(block_of(row, n, i, group_of(dtype)));
      return a / 14.0 * (1 + std::ldexp(1.0, -10)) + kTiny;
    }
    case DType::I4Z_G32: case DType::I4Z_G64: case DType::I4Z_G128: {
      // Over [min(lo, 0), max(hi, 0)], x/d + z stays within [-0.5, 15.5] (z = round(-lo/d)):
      // clamping never costs more than rounding; 16 · 2^-11 covers d's f16 rounding.
      const Span g = block_of(row, n, i, group_of(dtype));
      const double d = (std::max(0.0f, max_of(g)) - std::min(0.0f, min_of(g))) / 15.0;
      return d * (0.5 + 16 * std::ldexp(1.0, -11)) + kTiny;
    }
    case DType::NF4: {
      // Half the widest gap between neighbouring codes (-1 and -0.6962) is 0.15190.
      return absmax(block_of(row, n, i, 64)) * 0.1520;
    }
    case DType::Q8_0: {
      // ggml rounds with 1/d before d is stored as f16: 127 · 2^-11 · d more, or 127 · 2^-25 where
      // d is an f16 subnormal (block absmax below ~0.008).
      return absmax(block_of(row, n, i, 32)) / 127.0 * (0.5 + 127 * std::ldexp(1.0, -11)) + 127 * std::ldexp(1.0, -25);
    }
    case DType::Q4_0: {
      // d = -max/8 (signed); the opposite end maps to q = 16, clamped to 15: up to |d|.
      return absmax(block_of(row, n, i, 32)) / 8.0 * (1 + 16 * std::ldexp(1.0, -11)) + kTiny;
    }
    case DType::Q4_1: {
      const Span g = block_of(row, n, i, 32);
      const double d = (static_cast<double>(max_of(g)) - min_of(g)) / 15.0;
      return d * (0.5 + 16 * std::ldexp(1.0, -11)) + std::fabs(min_of(g)) * std::ldexp(1.0, -11) + kTiny;
    }
    default:
      return std::numeric_limits<double>::infinity();
  }
}

std::optional<DType> fit_block_size(DType wanted, std::int64_t cols) {
  auto fits = [cols](DType d) { return cols % static_cast<std::int64_t>(traits(d).block_size) == 0; };
  if (fits(wanted)) return wanted;
  const std::vector<std::vector<DType>> families = {{DType::I4S_G128, DType::I4S_G64, DType::I4S_G32},
                                                    {DType::I4Z_G128, DType::I4Z_G64, DType::I4Z_G32}};
  for (const auto& family : families) {
    auto it = std::find(family.begin(), family.end(), wanted);
    if (it == family.end()) continue;
    for (; it != family.end(); ++it) {
      if (fits(*it)) return *it;
    }
  }
  return std::nullopt;
}

}  // namespace eaq::quant
