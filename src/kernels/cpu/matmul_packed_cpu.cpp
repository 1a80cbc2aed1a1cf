// CPU matmul for packed weight formats, computed on the packed bytes: GGUF q8_0 / q4_0 / q4_1 /
// q4_K / q6_K and eaq's int4 group-wise (symmetric and zero-point), nf4, int8 and fp8 per
// output channel (weight-only: activations stay f32), and int8-dyn (W8A8: activations quantized
// to int8 per token, integer dot products).
//
// Design (weight-only formats): each weight row is read block by block; a block's codes are
// widened to f32 in registers (nibbles: one u8→i32 widening gives both halves of a byte; fp8: a
// shift into the f32 exponent/mantissa fields; nf4: a 16-entry table lookup), multiplied with the
// activations (FMA) into a per-block sum, which is then scaled by the block's scale into the
// row accumulator. Affine minimums (q4_1, q4_K) are applied as min · Σx over the block, with Σx
// precomputed once per activation row. Nothing is dequantized to memory except q6_K's 256
// codes (to an on-stack int8 buffer; its bit layout has no cheap in-register form).
//
// Up to 4 activation rows share each decoded block; every row's accumulator sees the same
// operation sequence whatever m, the grouping or the thread count, so a row computed alone
// equals the same row inside a batch, bit for bit.
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_packed_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/eaq_quant_blocks.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/matmul_packed_cpu.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// At most 16 lanes: a 32-weight chunk of nibbles is 16 bytes.
using DF = hn::CappedTag<float, 16>;
using VF = hn::Vec<DF>;
using DI = hn::Rebind<std::int32_t, DF>;
using VI = hn::Vec<DI>;
using DU8 = hn::Rebind<std::uint8_t, DF>;
using DI8 = hn::Rebind<std::int8_t, DF>;

constexpr std::size_t kMaxRows = 4;  // activation rows sharing one decoded block

struct PackedArgs {
  const float* x;
  std::size_t m, n, k;
  const float* bias;
  float* y;
  const void* w;
  std::size_t w_stride;
  const float* xsum32;  // [m][k/32] sums of 32 activations (q4_1, q4_K), else null
};

// A block scale: one per 32 weights, so the hardware conversion (F16C) matters for decode.
HWY_INLINE float F16At(const void* p) {
  std::uint16_t bits;
  std::memcpy(&bits, p, 2);
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  return _cvtsh_ss(bits);
#else
  return f16_to_f32(bits);
#endif
}

// t[r] += Σ_j codes(j) · x[r][base + j] over one 32-weight chunk in q4_0 nibble order.
template <std::size_t MR, class Decode>
HWY_INLINE void NibbleChunk(const std::uint8_t* qs, const float* const* x, std::size_t base, const Decode& decode,
                            VF* t) {
  const DF df;
  const DI di;
  const DU8 du8;
  const std::size_t lanes = hn::Lanes(df);
  for (std::size_t j = 0; j < 16; j += lanes) {
    const VI v = hn::PromoteTo(di, hn::LoadU(du8, qs + j));
    const VF lo = decode(hn::And(v, hn::Set(di, 15)));
    const VF hi = decode(hn::ShiftRight<4>(v));
    for (std::size_t r = 0; r < MR; ++r) {
      t[r] = hn::MulAdd(lo, hn::LoadU(df, x[r] + base + j), t[r]);
      t[r] = hn::MulAdd(hi, hn::LoadU(df, x[r] + base + 16 + j), t[r]);
    }
  }
}

// As NibbleChunk for q4_K's order: the low nibbles of 32 bytes are elements base..base+31, the
// high nibbles base+32..base+63, with separate sums (they have separate scales).
template <std::size_t MR>
HWY_INLINE void NibbleChunkK(const std::uint8_t* qs, const float* const* x, std::size_t base, VF* t_lo, VF* t_hi) {
  const DF df;
  const DI di;
  const DU8 du8;
  const std::size_t lanes = hn::Lanes(df);
  for (std::size_t j = 0; j < 32; j += lanes) {
    const VI v = hn::PromoteTo(di, hn::LoadU(du8, qs + j));
    const VF lo = hn::ConvertTo(df, hn::And(v, hn::Set(di, 15)));
    const VF hi = hn::ConvertTo(df, hn::ShiftRight<4>(v));
    for (std::size_t r = 0; r < MR; ++r) {
      t_lo[r] = hn::MulAdd(lo, hn::LoadU(df, x[r] + base + j), t_lo[r]);
      t_hi[r] = hn::MulAdd(hi, hn::LoadU(df, x[r] + base + 32 + j), t_hi[r]);
    }
  }
}

// t[r] += Σ int8 codes · x over n (a multiple of the lane count) elements.
template <std::size_t MR>
HWY_INLINE void Int8Run(const std::int8_t* q, const float* const* x, std::size_t base, std::size_t n, VF* t) {
  const DF df;
  const DI di;
  const DI8 di8;
  const std::size_t lanes = hn::Lanes(df);
  for (std::size_t j = 0; j < n; j += lanes) {
    const VF w = hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(di8, q + j)));
    for (std::size_t r = 0; r < MR; ++r) t[r] = hn::MulAdd(w, hn::LoadU(df, x[r] + base + j), t[r]);
  }
}

template <std::size_t MR>
HWY_INLINE void ZeroAll(VF* v) {
  for (std::size_t r = 0; r < MR; ++r) v[r] = hn::Zero(DF());
}

// The per-format row dots: out[r] = Σ_k w[k] · x[r][k] for one weight row.
template <std::size_t MR>
void RowDot(DType dtype, const std::uint8_t* row, const float* const* x, const float* const* xsum, std::size_t k,
            float* out) {
  const DF df;
  const DI di;
  const std::size_t lanes = hn::Lanes(df);
  // Two accumulator sets, for even and odd blocks: one FMA chain would make decode wait on
  // the FMA latency once per block.
  VF acc[MR], acc_odd[MR], t[MR];
  float offset[MR] = {};
  ZeroAll<MR>(acc);
  ZeroAll<MR>(acc_odd);
  auto add_block = [&](std::size_t b, VF scale) {
    VF* a = (b & 1) != 0 ? acc_odd : acc;
    for (std::size_t r = 0; r < MR; ++r) a[r] = hn::MulAdd(t[r], scale, a[r]);
  };
  auto finish = [&](float scale) {
    for (std::size_t r = 0; r < MR; ++r) {
      out[r] = (hn::GetLane(hn::SumOfLanes(df, hn::Add(acc[r], acc_odd[r]))) + offset[r]) * scale;
    }
  };
  // Nibble → f32 value (q - offset). With 16 lanes (AVX-512) all 16 values sit in one register
  // and a lane permute converts 16 codes in one instruction (measured: nf4, which did this from
  // the start, decoded ~1.5× faster than int4's subtract + convert); else subtract and convert.
#if HWY_TARGET <= HWY_AVX3
  const VF iota = hn::Iota(df, 0.0f);
  auto nibble_table = [&](int offset) { return hn::Sub(iota, hn::Set(df, static_cast<float>(offset))); };
  auto lookup = [&](VF table) { return [&df, table](VI v) { return hn::TableLookupLanes(table, hn::IndicesFromVec(df, v)); }; };
#else
  auto nibble_table = [&](int offset) { return hn::Set(di, offset); };
  auto lookup = [&](VI offset_codes) {
    return [&df, offset_codes](VI v) { return hn::ConvertTo(df, hn::Sub(v, offset_codes)); };
  };
#endif
  const auto to_f32 = lookup(nibble_table(0));

  switch (dtype) {
    case DType::Q4_0: {
      const auto decode = lookup(nibble_table(8));
      const auto* blocks = reinterpret_cast<const block_q4_0*>(row);
      for (std::size_t b = 0; b < k / 32; ++b) {
        // Per-block sums in t (short, independent FMA chains), then one FMA by the scale:
        // measured faster than folding the scale into the table and FMA-ing into the row sums.
        ZeroAll<MR>(t);
        NibbleChunk<MR>(blocks[b].qs, x, b * 32, decode, t);
        add_block(b, hn::Set(df, F16At(&blocks[b].d)));
      }
      return finish(1.0f);
    }
    case DType::Q4_1: {
      const auto* blocks = reinterpret_cast<const block_q4_1*>(row);
      for (std::size_t b = 0; b < k / 32; ++b) {
        ZeroAll<MR>(t);
        NibbleChunk<MR>(blocks[b].qs, x, b * 32, to_f32, t);
        add_block(b, hn::Set(df, F16At(&blocks[b].d)));
        const float m = F16At(&blocks[b].m);
        for (std::size_t r = 0; r < MR; ++r) offset[r] += m * xsum[r][b];
      }
      return finish(1.0f);
    }
    case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128:
    case DType::I4Z_G32: case DType::I4Z_G64: case DType::I4Z_G128: {
      const bool zero_point = dtype == DType::I4Z_G32 || dtype == DType::I4Z_G64 || dtype == DType::I4Z_G128;
      const std::size_t group = traits(dtype).block_size, block_bytes = traits(dtype).block_bytes;
      const std::size_t header = zero_point ? 3 : 2;
      for (std::size_t b = 0; b < k / group; ++b) {
        const std::uint8_t* block = row + b * block_bytes;
        const auto decode = lookup(nibble_table(zero_point ? block[2] : 8));
        ZeroAll<MR>(t);
        for (std::size_t c = 0; c < group / 32; ++c) NibbleChunk<MR>(block + header + c * 16, x, b * group + c * 32, decode, t);
        add_block(b, hn::Set(df, F16At(block)));
      }
      return finish(1.0f);
    }
    case DType::NF4: {
#if HWY_TARGET <= HWY_AVX3
      // 16 lanes: the whole codebook fits one register; a lane permute looks codes up.
      const VF codebook = hn::LoadU(df, kNf4Codebook);
      auto decode = [&](VI v) { return hn::TableLookupLanes(codebook, hn::IndicesFromVec(df, v)); };
#else
      auto decode = [&](VI v) { return hn::GatherIndex(df, kNf4Codebook, v); };
#endif
      const auto* blocks = reinterpret_cast<const block_nf4*>(row);
      for (std::size_t b = 0; b < k / kQKNf4; ++b) {
        ZeroAll<MR>(t);
        NibbleChunk<MR>(blocks[b].qs, x, b * kQKNf4, decode, t);
        NibbleChunk<MR>(blocks[b].qs + 16, x, b * kQKNf4 + 32, decode, t);
        float absmax;
        std::memcpy(&absmax, &blocks[b].absmax, 4);
        add_block(b, hn::Set(df, absmax));
      }
      return finish(1.0f);
    }
    case DType::Q8_0: {
      const auto* blocks = reinterpret_cast<const block_q8_0*>(row);
      for (std::size_t b = 0; b < k / 32; ++b) {
        ZeroAll<MR>(t);
        Int8Run<MR>(blocks[b].qs, x, b * 32, 32, t);
        add_block(b, hn::Set(df, F16At(&blocks[b].d)));
      }
      return finish(1.0f);
    }
    case DType::I8_CH: case DType::F8_E4M3_CH: {
      float scale;
      std::memcpy(&scale, row, 4);
      const std::uint8_t* q = row + kChannelRowHeaderBytes;
      const std::size_t full = k / lanes * lanes;
      if (dtype == DType::I8_CH) {
        // Alternate vectors between the two accumulator sets (see above).
        const std::size_t pairs = full / (2 * lanes) * (2 * lanes);
        for (std::size_t j = 0; j < pairs; j += 2 * lanes) {
          Int8Run<MR>(reinterpret_cast<const std::int8_t*>(q) + j, x, j, lanes, acc);
          Int8Run<MR>(reinterpret_cast<const std::int8_t*>(q) + j + lanes, x, j + lanes, lanes, acc_odd);
        }
        if (pairs < full) Int8Run<MR>(reinterpret_cast<const std::int8_t*>(q) + pairs, x, pairs, full - pairs, acc);
        for (std::size_t j = full; j < k; ++j) {
          for (std::size_t r = 0; r < MR; ++r) offset[r] += static_cast<float>(static_cast<std::int8_t>(q[j])) * x[r][j];
        }
      } else {
        // e4m3 → f32: sign to bit 31, exponent and mantissa to bits 23..29 (shifted by 20) give
        // the value · 2^-120 exactly (subnormals included); one multiply restores it.
        const DU8 du8;
        const VF two_120 = hn::Set(df, 1.329227995784916e36f);
        for (std::size_t j = 0; j < full; j += lanes) {
          const VI v = hn::PromoteTo(di, hn::LoadU(du8, q + j));
          const VI bits = hn::Or(hn::ShiftLeft<20>(hn::And(v, hn::Set(di, 0x7F))), hn::ShiftLeft<24>(hn::And(v, hn::Set(di, 0x80))));
          const VF w = hn::Mul(hn::BitCast(df, bits), two_120);
          VF* a = ((j / lanes) & 1) != 0 ? acc_odd : acc;
          for (std::size_t r = 0; r < MR; ++r) a[r] = hn::MulAdd(w, hn::LoadU(df, x[r] + j), a[r]);
        }
        for (std::size_t j = full; j < k; ++j) {
          for (std::size_t r = 0; r < MR; ++r) offset[r] += f8e4m3_to_f32(q[j]) * x[r][j];
        }
      }
      return finish(scale);
    }
    case DType::Q4_K: {
      const auto* blocks = reinterpret_cast<const block_q4_K*>(row);
      VF t_hi[MR];
      for (std::size_t b = 0; b < k / kQK_K; ++b) {
        const block_q4_K& blk = blocks[b];
        const float d = F16At(&blk.d), dmin = F16At(&blk.dmin);
        for (int j = 0; j < 4; ++j) {
          std::uint8_t sc[2], mn[2];
          for (int h = 0; h < 2; ++h) {
            const int s = 2 * j + h;
            if (s < 4) {
              sc[h] = blk.scales[s] & 63;
              mn[h] = blk.scales[s + 4] & 63;
            } else {
              sc[h] = static_cast<std::uint8_t>((blk.scales[s + 4] & 0x0f) | ((blk.scales[s - 4] >> 6) << 4));
              mn[h] = static_cast<std::uint8_t>((blk.scales[s + 4] >> 4) | ((blk.scales[s] >> 6) << 4));
            }
          }
          ZeroAll<MR>(t);
          ZeroAll<MR>(t_hi);
          const std::size_t base = b * kQK_K + 64 * j;
          NibbleChunkK<MR>(blk.qs + 32 * j, x, base, t, t_hi);
          const VF d_lo = hn::Set(df, d * sc[0]), d_hi = hn::Set(df, d * sc[1]);
          const std::size_t chunk = base / 32;
          for (std::size_t r = 0; r < MR; ++r) {
            acc[r] = hn::MulAdd(t[r], d_lo, acc[r]);
            acc_odd[r] = hn::MulAdd(t_hi[r], d_hi, acc_odd[r]);
            offset[r] -= dmin * mn[0] * xsum[r][chunk] + dmin * mn[1] * xsum[r][chunk + 1];
          }
        }
      }
      return finish(1.0f);
    }
    case DType::Q6_K: {
      const auto* blocks = reinterpret_cast<const block_q6_K*>(row);
      HWY_ALIGN std::int8_t q[kQK_K];
      for (std::size_t b = 0; b < k / kQK_K; ++b) {
        const block_q6_K& blk = blocks[b];
        for (int half = 0; half < 2; ++half) {
          const std::uint8_t* ql = blk.ql + 64 * half;
          const std::uint8_t* qh = blk.qh + 32 * half;
          std::int8_t* out_q = q + 128 * half;
          for (int l = 0; l < 32; ++l) {
            out_q[l] = static_cast<std::int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
            out_q[l + 32] = static_cast<std::int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            out_q[l + 64] = static_cast<std::int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            out_q[l + 96] = static_cast<std::int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
          }
        }
        const float d = F16At(&blk.d);
        for (int s = 0; s < kQK_K / 16; ++s) {
          ZeroAll<MR>(t);
          Int8Run<MR>(q + 16 * s, x, b * kQK_K + 16 * s, 16, t);
          add_block(static_cast<std::size_t>(s), hn::Set(df, d * static_cast<float>(blk.scales[s])));
        }
      }
      return finish(1.0f);
    }
    default:
      HWY_ASSERT(false);
  }
}

// Activation rows per m-tile (kept in L2 while the weight rows stream past).
std::size_t RowsPerTile(std::size_t k) {
  return std::clamp<std::size_t>((256 * 1024) / (k * sizeof(float)) / kMaxRows * kMaxRows, kMaxRows, 256);
}

void WeightOnlyRows(const PackedArgs& a, DType dtype, std::size_t row_begin, std::size_t row_end) {
  const std::size_t chunks = a.k / 32;
  const std::size_t tile = RowsPerTile(a.k);
  for (std::size_t m0 = 0; m0 < a.m; m0 += tile) {
    const std::size_t m1 = std::min(a.m, m0 + tile);
    for (std::size_t n = row_begin; n < row_end; ++n) {
      const auto* row = static_cast<const std::uint8_t*>(a.w) + n * a.w_stride;
      const float bias = a.bias != nullptr ? a.bias[n] : 0.0f;
      std::size_t i = m0;
      for (; i + kMaxRows <= m1; i += kMaxRows) {
        const float* x[kMaxRows];
        const float* xs[kMaxRows];
        for (std::size_t r = 0; r < kMaxRows; ++r) {
          x[r] = a.x + (i + r) * a.k;
          xs[r] = a.xsum32 != nullptr ? a.xsum32 + (i + r) * chunks : nullptr;
        }
        float out[kMaxRows];
        RowDot<kMaxRows>(dtype, row, x, xs, a.k, out);
        for (std::size_t r = 0; r < kMaxRows; ++r) a.y[(i + r) * a.n + n] = out[r] + bias;
      }
      for (; i < m1; ++i) {
        const float* x[1] = {a.x + i * a.k};
        const float* xs[1] = {a.xsum32 != nullptr ? a.xsum32 + i * chunks : nullptr};
        float out[1];
        RowDot<1>(dtype, row, x, xs, a.k, out);
        a.y[i * a.n + n] = out[0] + bias;
      }
    }
  }
}

void MatmulWeightOnly(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                      float* y) {
  PackedArgs a{x, static_cast<std::size_t>(m), static_cast<std::size_t>(w.rows), static_cast<std::size_t>(w.cols),
               bias, y, w.data, w.row_stride_bytes, nullptr};
  std::vector<float> xsum;
  if (w.dtype == DType::Q4_1 || w.dtype == DType::Q4_K) {
    const std::size_t chunks = a.k / 32;
    xsum.resize(a.m * chunks);
    for (std::size_t i = 0; i < a.m; ++i) {
      for (std::size_t c = 0; c < chunks; ++c) {
        float s = 0.0f;
        for (std::size_t j = 0; j < 32; ++j) s += x[i * a.k + c * 32 + j];
        xsum[i * chunks + c] = s;
      }
    }
    a.xsum32 = xsum.data();
  }
  pool.parallel_for(a.n, [&](std::size_t begin, std::size_t end) { WeightOnlyRows(a, w.dtype, begin, end); });
}

// int8-dyn: Σ int8(w) · int8(x) in int32 through 16-bit multiply-adds (vpmaddwd on x86).
std::int32_t DotInt8(const std::int8_t* a, const std::int8_t* b, std::size_t k) {
  const hn::ScalableTag<std::int16_t> d16;
  const hn::Rebind<std::int8_t, decltype(d16)> d8;
  const hn::Repartition<std::int32_t, decltype(d16)> d32;
  const std::size_t lanes = hn::Lanes(d16);
  auto sum0 = hn::Zero(d32), sum1 = hn::Zero(d32);
  std::size_t j = 0;
  for (; j + lanes <= k; j += lanes) {
    const auto va = hn::PromoteTo(d16, hn::LoadU(d8, a + j));
    const auto vb = hn::PromoteTo(d16, hn::LoadU(d8, b + j));
    sum0 = hn::ReorderWidenMulAccumulate(d32, va, vb, sum0, sum1);
  }
  std::int32_t total = hn::GetLane(hn::SumOfLanes(d32, hn::RearrangeToOddPlusEven(sum0, sum1)));
  for (; j < k; ++j) total += static_cast<std::int32_t>(a[j]) * b[j];
  return total;
}

void MatmulDynamicInt8(ThreadPool& pool, const float* x, std::int64_t m_signed, const WeightRef& w,
                       const float* bias, float* y) {
  const std::size_t m = static_cast<std::size_t>(m_signed), n = static_cast<std::size_t>(w.rows),
                    k = static_cast<std::size_t>(w.cols);
  std::vector<std::int8_t> xq(m * k);
  std::vector<float> x_scale(m);
  for (std::size_t i = 0; i < m; ++i) quantize_activations_int8(x + i * k, k, xq.data() + i * k, &x_scale[i]);
  pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t row = begin; row < end; ++row) {
      const auto* bytes = static_cast<const std::uint8_t*>(w.data) + row * w.row_stride_bytes;
      float w_scale;
      std::memcpy(&w_scale, bytes, 4);
      const auto* q = reinterpret_cast<const std::int8_t*>(bytes + kChannelRowHeaderBytes);
      for (std::size_t i = 0; i < m; ++i) {
        const std::int32_t dot = DotInt8(q, xq.data() + i * k, k);
        y[i * n + row] = static_cast<float>(dot) * (x_scale[i] * w_scale) + (bias != nullptr ? bias[row] : 0.0f);
      }
    }
  });
}

void MatmulPackedImpl(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                      float* y) {
  if (w.dtype == DType::I8_CH_DYN) return MatmulDynamicInt8(pool, x, m, w, bias, y);
  MatmulWeightOnly(pool, x, m, w, bias, y);
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(MatmulPackedImpl);

bool has_packed_kernel(DType dtype) {
  switch (dtype) {
    case DType::Q8_0: case DType::Q4_0: case DType::Q4_1: case DType::Q4_K: case DType::Q6_K:
    case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128: case DType::I4Z_G32: case DType::I4Z_G64:
    case DType::I4Z_G128: case DType::NF4: case DType::I8_CH: case DType::I8_CH_DYN: case DType::F8_E4M3_CH:
      return true;
    default:
      return false;
  }
}

void quantize_activations_int8(const float* x, std::size_t k, std::int8_t* q, float* scale) {
  float absmax = 0.0f;
  for (std::size_t j = 0; j < k; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  *scale = absmax / 127.0f;
  for (std::size_t j = 0; j < k; ++j) {
    const float v = *scale != 0.0f ? x[j] / *scale : 0.0f;
    q[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(v), -127.0f, 127.0f));
  }
}

void matmul_packed(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                   float* y) {
  HWY_DYNAMIC_DISPATCH(MatmulPackedImpl)(pool, x, m, w, bias, y);
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
