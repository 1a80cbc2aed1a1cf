// CPU matmul for packed weight formats, computed on the packed bytes: GGUF q8_0 / q4_0 / q4_1 /
// q4_K / q6_K and eaq's int4 group-wise (symmetric and zero-point), nf4, int8 and fp8 per
// output channel (weight-only: activations stay f32). int8-dyn (W8A8) is in
// matmul_int8_dynamic_cpu.cpp.
//
// Design (weight-only formats): each weight row is read block by block; a block's codes are
// widened to f32 in registers (nibbles: one u8→i32 widening gives both halves of a byte; fp8: a
// shift into the f32 exponent/mantissa fields; nf4: a 16-entry table lookup), multiplied with the
// activations (FMA) into a per-block sum, which is then scaled by the block's scale into the
// row accumulator. Affine minimums (q4_1, q4_K) are applied as min · Σx over the block, and the
// offsets of q4_0 / int4 (8 or the zero point z) as Σ x·q − z·Σx, with Σx (as a scalar, or as a
// vector whose lanes add up to it) precomputed once per activation row: nibbles convert without a
// subtraction. Nothing is dequantized to memory except q6_K's 256 codes (to an on-stack int8
// buffer; its bit layout has no cheap in-register form). The row loop is instantiated per dtype
// with the row dot inlined; decode reads rows in decode_row_order.h's order, four q4_0/int4/q4_1
// rows a pass. The per-block building blocks are in packed_blocks-inl.h.
//
// Up to 4 activation rows share each decoded block; every row's accumulator sees the same
// operation sequence whatever m, the grouping or the thread count, so a row computed alone
// equals the same row inside a batch, bit for bit (packed_matmul_test checks it).
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_packed_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/cpu/packed_blocks-inl.h"

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
#include "kernels/cpu/decode_row_order.h"
#include "kernels/cpu/matmul_packed_cpu.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr std::size_t kMaxRows = 4;  // activation rows sharing one decoded block

// RowDot's helper lambdas must inline: a lambda left as a call reaches the accumulators through
// its closure, which keeps them in memory (measured: int4-g32 decode ~3x slower in cache).
#if defined(__GNUC__) || defined(__clang__)
#define EAQ_INLINE_LAMBDA __attribute__((always_inline))
#else
#define EAQ_INLINE_LAMBDA
#endif

struct PackedArgs {
  const float* x;
  std::size_t m, n, k;
  const float* bias;
  float* y;
  const void* w;
  std::size_t w_stride;
  const float* xsum32;  // [m][k/32] sums of 32 activations (q4_1, q4_K), else null
  // [m][k/32][Lanes(DF)]: each 32 activations summed down to one vector, whose lanes add up to
  // their sum (q4_0, int4: the offset is subtracted from the block's vector sum), else null
  const float* xvec32;
};

// The per-format row dots: out[r] = Σ_k w[k] · x[r][k] for one weight row.
// Inlined into a row loop instantiated per dtype (WeightOnlyRowsOf), so the switch below folds
// away and nothing is called per row: at k = 576 (SmolLM2's rows) a call and dispatch per row
// cost ~25% of the int4 matvec.
template <std::size_t MR>
HWY_INLINE void RowDot(DType dtype, const std::uint8_t* row, const float* const* x, const float* const* xsum,
                       const float* const* xvec, std::size_t k, float* out) {
  const DF df;
  const DI di;
  const std::size_t lanes = hn::Lanes(df);
  // Two accumulator sets, for even and odd blocks: one FMA chain would make decode wait on
  // the FMA latency once per block. for_blocks unrolls the block loop by two so each set is a
  // named register array: choosing the set through a pointer at run time kept both on the stack,
  // a store and reload a block (measured: q4_0 decode ~1.6x slower in cache).
  // The scalar per-block terms (offsets, minimums) alternate between two sums the same way.
  VF acc[MR], acc_odd[MR], t[MR], t_hi[MR];
  float offset[MR] = {}, offset_odd[MR] = {};
  ZeroAll<MR>(acc);
  ZeroAll<MR>(acc_odd);
  auto for_blocks = [&](std::size_t n_blocks, const auto& block) EAQ_INLINE_LAMBDA {
    std::size_t b = 0;
    for (; b + 2 <= n_blocks; b += 2) {
      block(b, acc, offset);
      block(b + 1, acc_odd, offset_odd);
    }
    if (b < n_blocks) block(b, acc, offset);
  };
  auto add_block = [&](VF* a, VF scale) EAQ_INLINE_LAMBDA {
    for (std::size_t r = 0; r < MR; ++r) a[r] = hn::MulAdd(t[r], scale, a[r]);
  };
  // A nibble block: its sums are in t (low nibbles) and t_hi (high nibbles).
  auto add_nibble_block = [&](VF* a, VF scale) EAQ_INLINE_LAMBDA {
    for (std::size_t r = 0; r < MR; ++r) a[r] = hn::MulAdd(hn::Add(t[r], t_hi[r]), scale, a[r]);
  };
  auto zero_nibble_sums = [&]() EAQ_INLINE_LAMBDA {
    ZeroAll<MR>(t);
    ZeroAll<MR>(t_hi);
  };
  auto finish = [&](float scale) {
    for (std::size_t r = 0; r < MR; ++r) {
      out[r] = (hn::GetLane(hn::SumOfLanes(df, hn::Add(acc[r], acc_odd[r]))) + (offset[r] + offset_odd[r])) * scale;
    }
  };
  // Nibble code → f32. The formats' offsets (q4_0, int4) and minimums (q4_1, q4_K) are applied
  // once a block through Σx (xsum), not per weight.
  const auto to_f32 = [&df](VI v) { return hn::ConvertTo(df, v); };

  switch (dtype) {
    case DType::Q4_1: {
      const auto* blocks = reinterpret_cast<const block_q4_1*>(row);
      for_blocks(k / 32, [&](std::size_t b, VF* a, float* off) EAQ_INLINE_LAMBDA {
        zero_nibble_sums();
        NibbleChunk<MR>(blocks[b].qs, x, b * 32, to_f32, t, t_hi);
        add_nibble_block(a, hn::Set(df, F16At(&blocks[b].d)));
        const float m = F16At(&blocks[b].m);
        for (std::size_t r = 0; r < MR; ++r) off[r] += m * xsum[r][b];
      });
      return finish(1.0f);
    }
    case DType::Q4_0:
    case DType::I4S_G32: case DType::I4S_G64: case DType::I4S_G128:
    case DType::I4Z_G32: case DType::I4Z_G64: case DType::I4Z_G128: {
      // Σ x·(q - z)·d as d·(Σ x·q - z·Σx): the codes convert without a subtraction, and the
      // offset costs one vector FMA a block against Σx, precomputed once per activation row.
      // Per-block sums (short FMA chains that restart each block), then one FMA by the scale:
      // measured faster than scaling each decoded weight and FMA-ing into the row sums.
      // The group size and header are compile-time constants in each instance, so the chunk
      // loop unrolls (a runtime-bounded one measured ~25% slower for g32).
      auto groups = [&]<std::size_t kChunks, bool kZeroPoint>() EAQ_INLINE_LAMBDA {
        for_blocks(k / (32 * kChunks), [&](std::size_t b, VF* a, float*) EAQ_INLINE_LAMBDA {
          OffsetNibbleBlock<MR, kChunks, kZeroPoint>(row, b, x, xvec, a);
        });
      };
      switch (dtype) {
        case DType::Q4_0: case DType::I4S_G32: groups.template operator()<1, false>(); break;
        case DType::I4S_G64: groups.template operator()<2, false>(); break;
        case DType::I4S_G128: groups.template operator()<4, false>(); break;
        case DType::I4Z_G32: groups.template operator()<1, true>(); break;
        case DType::I4Z_G64: groups.template operator()<2, true>(); break;
        default: groups.template operator()<4, true>(); break;
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
      for_blocks(k / kQKNf4, [&](std::size_t b, VF* a, float*) EAQ_INLINE_LAMBDA {
        zero_nibble_sums();
        NibbleChunk<MR>(blocks[b].qs, x, b * kQKNf4, decode, t, t_hi);
        NibbleChunk<MR>(blocks[b].qs + 16, x, b * kQKNf4 + 32, decode, t, t_hi);
        float absmax;
        std::memcpy(&absmax, &blocks[b].absmax, 4);
        add_nibble_block(a, hn::Set(df, absmax));
      });
      return finish(1.0f);
    }
    case DType::Q8_0: {
      const auto* blocks = reinterpret_cast<const block_q8_0*>(row);
      for_blocks(k / 32, [&](std::size_t b, VF* a, float*) EAQ_INLINE_LAMBDA {
        ZeroAll<MR>(t);
        Int8Run<MR>(blocks[b].qs, x, b * 32, 32, t);
        add_block(a, hn::Set(df, F16At(&blocks[b].d)));
      });
      return finish(1.0f);
    }
    case DType::I8_CH: case DType::F8_E4M3_CH: {
      float scale;
      std::memcpy(&scale, row, 4);
      const std::uint8_t* q = row + kChannelRowHeaderBytes;
      const std::size_t full = k / lanes * lanes;
      if (dtype == DType::I8_CH) {
        // As q8_0: runs of 32 codes summed in t (a short chain that restarts each run, so runs
        // overlap), each run added to the even or odd accumulator set. Alternating single
        // vectors between the two sets instead left each set's FMA chain as the limit (measured:
        // ~4.5 weights a cycle in cache).
        const auto* codes = reinterpret_cast<const std::int8_t*>(q);
        const std::size_t runs = k / 32;
        for_blocks(runs, [&](std::size_t b, VF* a, float*) EAQ_INLINE_LAMBDA {
          ZeroAll<MR>(t);
          Int8Run<MR>(codes + 32 * b, x, 32 * b, 32, t);
          for (std::size_t r = 0; r < MR; ++r) a[r] = hn::Add(a[r], t[r]);
        });
        if (32 * runs < full) Int8Run<MR>(codes + 32 * runs, x, 32 * runs, full - 32 * runs, acc);
        for (std::size_t j = full; j < k; ++j) {
          for (std::size_t r = 0; r < MR; ++r) offset[r] += static_cast<float>(static_cast<std::int8_t>(q[j])) * x[r][j];
        }
      } else {
        // e4m3 → f32: sign to bit 31, exponent and mantissa to bits 23..29 (shifted by 20) give
        // the value · 2^-120 exactly (subnormals included); one multiply restores it.
        const DU8 du8;
        const VF two_120 = hn::Set(df, 1.329227995784916e36f);
        auto vector = [&](std::size_t j, VF* a) EAQ_INLINE_LAMBDA {
          const VI v = hn::PromoteTo(di, hn::LoadU(du8, q + j));
          const VI bits = hn::Or(hn::ShiftLeft<20>(hn::And(v, hn::Set(di, 0x7F))), hn::ShiftLeft<24>(hn::And(v, hn::Set(di, 0x80))));
          const VF w = hn::Mul(hn::BitCast(df, bits), two_120);
          for (std::size_t r = 0; r < MR; ++r) a[r] = hn::MulAdd(w, hn::LoadU(df, x[r] + j), a[r]);
        };
        for_blocks(full / lanes, [&](std::size_t v, VF* a, float*) EAQ_INLINE_LAMBDA { vector(v * lanes, a); });
        for (std::size_t j = full; j < k; ++j) {
          for (std::size_t r = 0; r < MR; ++r) offset[r] += f8e4m3_to_f32(q[j]) * x[r][j];
        }
      }
      return finish(scale);
    }
    case DType::Q4_K: {
      const auto* blocks = reinterpret_cast<const block_q4_K*>(row);
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
        for_blocks(kQK_K / 16, [&](std::size_t s, VF* a, float*) EAQ_INLINE_LAMBDA {
          ZeroAll<MR>(t);
          Int8Run<MR>(q + 16 * s, x, b * kQK_K + 16 * s, 16, t);
          add_block(a, hn::Set(df, d * static_cast<float>(blk.scales[s])));
        });
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

// Decode (one activation row), kRows weight rows a pass sharing the activation loads and the
// loop, each row with exactly RowDot<1>'s operations (bit-identical results): block(b, w, acc,
// offset) adds block b of row w into the even or odd vector accumulator and scalar sum, as
// RowDot's for_blocks does, and the finish is RowDot's (unit scale). At k = 576 (SmolLM2) the fixed
// cost of a row (loop set-up, horizontal sum) was ~18% of the int4 matvec.
template <std::size_t kRows, class Block>
HWY_INLINE void RowsAPass(std::size_t n_blocks, const Block& block, float* out) {
  const DF df;
  VF acc[kRows], acc_odd[kRows];
  float offset[kRows] = {}, offset_odd[kRows] = {};
  for (std::size_t w = 0; w < kRows; ++w) acc[w] = acc_odd[w] = hn::Zero(df);
  std::size_t b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    for (std::size_t w = 0; w < kRows; ++w) block(b, w, acc[w], offset[w]);
    for (std::size_t w = 0; w < kRows; ++w) block(b + 1, w, acc_odd[w], offset_odd[w]);
  }
  if (b < n_blocks) {
    for (std::size_t w = 0; w < kRows; ++w) block(b, w, acc[w], offset[w]);
  }
  constexpr float kUnitScale = 1.0f;
  for (std::size_t w = 0; w < kRows; ++w) {
    out[w] = (hn::GetLane(hn::SumOfLanes(df, hn::Add(acc[w], acc_odd[w]))) + (offset[w] + offset_odd[w])) * kUnitScale;
  }
}

// The formats whose nibbles carry an offset (q4_0, int4): OffsetNibbleBlock, no scalar sums.
// In cache at 512x576, 1 thread: i4s_g32 6.0 GB/s one row a pass, 7.3 four.
template <std::size_t kRows, std::size_t kChunks, bool kZeroPoint>
HWY_INLINE void OffsetNibbleRows(const std::uint8_t* const* rows, const float* x, const float* xvec, std::size_t k,
                                 float* out) {
  const float* const xs[1] = {x};
  const float* const xv[1] = {xvec};
  RowsAPass<kRows>(k / (32 * kChunks), [&](std::size_t b, std::size_t w, VF& a, float&) EAQ_INLINE_LAMBDA {
    OffsetNibbleBlock<1, kChunks, kZeroPoint>(rows[w], b, xs, xv, &a);
  }, out);
}

// q4_1: the nibble sums scaled by d, and m·Σx into the scalar sums, as RowDot's q4_1 case. In
// cache at 512x576, 1 thread: 7.1 -> 7.7 GB/s one row a pass vs four (2026-12-05); from DRAM at
// 1536x576 6.9 -> 7.7.
template <std::size_t kRows>
HWY_INLINE void Q41Rows(const std::uint8_t* const* rows, const float* x, const float* xsum, std::size_t k,
                        float* out) {
  const DF df;
  const float* const xs[1] = {x};
  const auto to_f32 = [&df](VI v) { return hn::ConvertTo(df, v); };
  RowsAPass<kRows>(k / 32, [&](std::size_t b, std::size_t w, VF& a, float& off) EAQ_INLINE_LAMBDA {
    const block_q4_1& blk = reinterpret_cast<const block_q4_1*>(rows[w])[b];
    VF t[1], t_hi[1];
    ZeroAll<1>(t);
    ZeroAll<1>(t_hi);
    NibbleChunk<1>(blk.qs, xs, b * 32, to_f32, t, t_hi);
    a = hn::MulAdd(hn::Add(t[0], t_hi[0]), hn::Set(df, F16At(&blk.d)), a);
    off += F16At(&blk.m) * xsum[b];
  }, out);
}

// OffsetNibbleRows' template arguments for a dtype: chunks of 32 a group (0: not such a
// format), and whether the group carries a zero point.
constexpr std::size_t OffsetNibbleChunks(DType d) {
  switch (d) {
    case DType::Q4_0: case DType::I4S_G32: case DType::I4Z_G32: return 1;
    case DType::I4S_G64: case DType::I4Z_G64: return 2;
    case DType::I4S_G128: case DType::I4Z_G128: return 4;
    default: return 0;
  }
}
constexpr bool HasZeroPoint(DType d) { return d == DType::I4Z_G32 || d == DType::I4Z_G64 || d == DType::I4Z_G128; }

template <DType kDtype>
void WeightOnlyRowsOf(const PackedArgs& a, std::size_t row_begin, std::size_t row_end) {
  const std::size_t chunks = a.k / 32, lanes = hn::Lanes(DF());
  if (a.m == 1) {
    // Decode, in decode_row_order.h's order.
    if constexpr (OffsetNibbleChunks(kDtype) > 0 || kDtype == DType::Q4_1) {
      // Four rows a pass, one from each stream: in cache at 512x576, 1 thread, i4s_g32 6.0 GB/s
      // one row a pass, 7.3 four.
      const std::size_t segment_rows = decode_segment_rows(row_begin, row_end);
      for (std::size_t t = 0; t < segment_rows; ++t) {
        std::size_t rows[kDecodeStreams];
        const std::uint8_t* ptrs[kDecodeStreams];
        for (std::size_t c = 0; c < kDecodeStreams; ++c) {
          rows[c] = decode_row(row_begin, segment_rows, c, t);
          // A shorter last segment: repeat a valid row, its output is not written.
          ptrs[c] = static_cast<const std::uint8_t*>(a.w) + (rows[c] < row_end ? rows[c] : rows[0]) * a.w_stride;
        }
        float out[kDecodeStreams];
        if constexpr (kDtype == DType::Q4_1) {
          Q41Rows<kDecodeStreams>(ptrs, a.x, a.xsum32, a.k, out);
        } else {
          OffsetNibbleRows<kDecodeStreams, OffsetNibbleChunks(kDtype), HasZeroPoint(kDtype)>(ptrs, a.x, a.xvec32, a.k,
                                                                                            out);
        }
        for (std::size_t c = 0; c < kDecodeStreams; ++c) {
          if (rows[c] < row_end) a.y[rows[c]] = out[c] + (a.bias != nullptr ? a.bias[rows[c]] : 0.0f);
        }
      }
    } else {
      const std::size_t segment_rows = decode_segment_rows(row_begin, row_end);
      for (std::size_t t = 0; t < segment_rows; ++t) {
        for (std::size_t c = 0; c < kDecodeStreams; ++c) {
          const std::size_t row = decode_row(row_begin, segment_rows, c, t);
          if (row >= row_end) continue;
          const float* x[1] = {a.x};
          const float* xs[1] = {a.xsum32};
          const float* xv[1] = {a.xvec32};
          float out[1];
          RowDot<1>(kDtype, static_cast<const std::uint8_t*>(a.w) + row * a.w_stride, x, xs, xv, a.k, out);
          a.y[row] = out[0] + (a.bias != nullptr ? a.bias[row] : 0.0f);
        }
      }
    }
    return;
  }
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
        const float* xv[kMaxRows];
        for (std::size_t r = 0; r < kMaxRows; ++r) {
          x[r] = a.x + (i + r) * a.k;
          xs[r] = a.xsum32 != nullptr ? a.xsum32 + (i + r) * chunks : nullptr;
          xv[r] = a.xvec32 != nullptr ? a.xvec32 + (i + r) * chunks * lanes : nullptr;
        }
        float out[kMaxRows];
        RowDot<kMaxRows>(kDtype, row, x, xs, xv, a.k, out);
        for (std::size_t r = 0; r < kMaxRows; ++r) a.y[(i + r) * a.n + n] = out[r] + bias;
      }
      for (; i < m1; ++i) {
        const float* x[1] = {a.x + i * a.k};
        const float* xs[1] = {a.xsum32 != nullptr ? a.xsum32 + i * chunks : nullptr};
        const float* xv[1] = {a.xvec32 != nullptr ? a.xvec32 + i * chunks * lanes : nullptr};
        float out[1];
        RowDot<1>(kDtype, row, x, xs, xv, a.k, out);
        a.y[i * a.n + n] = out[0] + bias;
      }
    }
  }
}

void WeightOnlyRows(const PackedArgs& a, DType dtype, std::size_t row_begin, std::size_t row_end) {
  switch (dtype) {
#define EAQ_ROWS_OF(D) \
  case DType::D: return WeightOnlyRowsOf<DType::D>(a, row_begin, row_end);
    EAQ_ROWS_OF(Q4_0) EAQ_ROWS_OF(Q4_1) EAQ_ROWS_OF(Q8_0) EAQ_ROWS_OF(Q4_K) EAQ_ROWS_OF(Q6_K)
    EAQ_ROWS_OF(I4S_G32) EAQ_ROWS_OF(I4S_G64) EAQ_ROWS_OF(I4S_G128) EAQ_ROWS_OF(I4Z_G32) EAQ_ROWS_OF(I4Z_G64)
    EAQ_ROWS_OF(I4Z_G128) EAQ_ROWS_OF(NF4) EAQ_ROWS_OF(I8_CH) EAQ_ROWS_OF(F8_E4M3_CH)
#undef EAQ_ROWS_OF
    default:
      HWY_ASSERT(false);
  }
}

void MatmulWeightOnly(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                      float* y) {
  PackedArgs a{x, static_cast<std::size_t>(m), static_cast<std::size_t>(w.rows), static_cast<std::size_t>(w.cols),
               bias, y, w.data, w.row_stride_bytes, nullptr, nullptr};
  const std::size_t chunks = a.k / 32;
  std::vector<float> xsum, xvec;
  if (w.dtype == DType::Q4_1 || w.dtype == DType::Q4_K) {
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
  const bool int4 = w.dtype == DType::I4S_G32 || w.dtype == DType::I4S_G64 || w.dtype == DType::I4S_G128 ||
                    w.dtype == DType::I4Z_G32 || w.dtype == DType::I4Z_G64 || w.dtype == DType::I4Z_G128;
  if (w.dtype == DType::Q4_0 || int4) {
    const DF df;
    const std::size_t lanes = hn::Lanes(df);
    xvec.resize(a.m * chunks * lanes);
    for (std::size_t i = 0; i < a.m; ++i) {
      for (std::size_t c = 0; c < chunks; ++c) {
        const float* xc = x + i * a.k + c * 32;
        VF s = hn::LoadU(df, xc);
        for (std::size_t j = lanes; j < 32; j += lanes) s = hn::Add(s, hn::LoadU(df, xc + j));
        hn::StoreU(s, df, xvec.data() + (i * chunks + c) * lanes);
      }
    }
    a.xvec32 = xvec.data();
  }
  pool.parallel_for(a.n, [&](std::size_t begin, std::size_t end) { WeightOnlyRows(a, w.dtype, begin, end); });
}

void MatmulPackedImpl(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                      float* y) {
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

void matmul_packed(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                   float* y) {
  if (w.dtype == DType::I8_CH_DYN) return matmul_int8_dynamic(pool, x, m, w, bias, y);
  HWY_DYNAMIC_DISPATCH(MatmulPackedImpl)(pool, x, m, w, bias, y);
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
