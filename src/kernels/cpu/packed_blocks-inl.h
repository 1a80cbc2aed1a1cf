// Per-block building blocks of the packed CPU kernels (matmul_packed_cpu.cpp): the f16 block
// scale, nibble and int8 runs multiplied into f32 sums, and the offset-nibble block of q4_0 /
// int4. A Highway per-target header: included after hwy/highway.h by a file compiled through
// hwy/foreach_target.h, once per SIMD target.
#if defined(EAQ_KERNELS_CPU_PACKED_BLOCKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EAQ_KERNELS_CPU_PACKED_BLOCKS_INL_H_
#undef EAQ_KERNELS_CPU_PACKED_BLOCKS_INL_H_
#else
#define EAQ_KERNELS_CPU_PACKED_BLOCKS_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/highway.h"

#include "core/half.h"

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

// t[r] += Σ_j codes(j) · x[r][base + j] over one 32-weight chunk in q4_0 nibble order: the low
// nibbles' products into t_lo, the high nibbles' into t_hi (two FMA chains: one would make each
// block wait on four FMA latencies in turn).
template <std::size_t MR, class Decode>
HWY_INLINE void NibbleChunk(const std::uint8_t* qs, const float* const* x, std::size_t base, const Decode& decode,
                            VF* t_lo, VF* t_hi) {
  const DF df;
  const DI di;
  const DU8 du8;
  const std::size_t lanes = hn::Lanes(df);
  for (std::size_t j = 0; j < 16; j += lanes) {
    const VI v = hn::PromoteTo(di, hn::LoadU(du8, qs + j));
    const VF lo = decode(hn::And(v, hn::Set(di, 15)));
    const VF hi = decode(hn::ShiftRight<4>(v));
    for (std::size_t r = 0; r < MR; ++r) {
      t_lo[r] = hn::MulAdd(lo, hn::LoadU(df, x[r] + base + j), t_lo[r]);
      t_hi[r] = hn::MulAdd(hi, hn::LoadU(df, x[r] + base + 16 + j), t_hi[r]);
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

// One block of a format whose nibbles carry an offset z (q4_0: 8, int4: 8 or the group's zero
// point), for MR activation rows: a[r] += (Σ x·q − z·Σx)·d, Σx from the block's activation vector
// sums (xvec). Blocks are [f16 d][z if kZeroPoint][16·kChunks bytes of q4_0-order nibbles]; q4_0
// is the kChunks = 1 symmetric case. RowDot and OffsetNibbleRows both run this, so a row alone
// and in a batch see the same operations.
template <std::size_t MR, std::size_t kChunks, bool kZeroPoint>
HWY_INLINE void OffsetNibbleBlock(const std::uint8_t* row, std::size_t b, const float* const* x,
                                  const float* const* xvec, VF* a) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  constexpr std::size_t kGroup = 32 * kChunks, kHeader = kZeroPoint ? 3 : 2;
  const std::uint8_t* block = row + b * (kHeader + 16 * kChunks);
  const auto to_f32 = [&df](VI v) { return hn::ConvertTo(df, v); };
  VF t[MR], t_hi[MR];
  ZeroAll<MR>(t);
  ZeroAll<MR>(t_hi);
  for (std::size_t c = 0; c < kChunks; ++c) NibbleChunk<MR>(block + kHeader + c * 16, x, b * kGroup + c * 32, to_f32, t, t_hi);
  const VF z = hn::Set(df, kZeroPoint ? static_cast<float>(block[2]) : 8.0f);
  const VF scale = hn::Set(df, F16At(block));
  for (std::size_t r = 0; r < MR; ++r) {
    VF xs = hn::LoadU(df, xvec[r] + b * kChunks * lanes);
    for (std::size_t c = 1; c < kChunks; ++c) xs = hn::Add(xs, hn::LoadU(df, xvec[r] + (b * kChunks + c) * lanes));
    a[r] = hn::MulAdd(hn::NegMulAdd(z, xs, hn::Add(t[r], t_hi[r])), scale, a[r]);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#endif  // EAQ_KERNELS_CPU_PACKED_BLOCKS_INL_H_ per-target guard
