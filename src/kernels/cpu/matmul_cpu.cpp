// CPU matmul y[m][n] = x[m][k] · W[n][k]ᵀ (+ bias) for f32 activations and weights stored in any
// dequantizable dtype. Design:
//  - One micro-kernel (DotTile) computes an MR×NR tile of dot products with ONE f32 accumulator
//    vector per output, stepping k by the vector width; the k tail is zero-padded into a full
//    vector. Every output is therefore the same sequence of operations whatever m, the tile shape,
//    the thread count or the path (inline f16/bf16 conversion or a pre-converted panel) — results
//    are bit-identical between threads 1 and 2, and between a row computed alone or in a batch.
//  - Threads split the output features n (contiguous ranges of NR-row blocks).
//  - Decode (m = 1) with f32/f16/bf16 weights streams the weight rows once, converting inline,
//    as kNR long sequential streams (DecodeDirect): memory-bandwidth bound.
//  - Prefill (m > 1) tiles over m: for each tile of MB activation rows (sized to stay in L2) each
//    block of NR weight rows is loaded (and for f16/bf16/quantized dtypes converted once into an
//    f32 panel) and reused against all MB rows, so the weight is streamed once per tile.
//  - Packed formats (GGUF q8_0/q4_0/q4_1/q4_K/q6_K, eaq's int4/nf4/int8/fp8) go to
//    kernels/cpu/matmul_packed_cpu.cpp, which computes on their bytes. Other dtypes (q5_x, q2_K,
//    ...) decode NR rows at a time with the scalar reference decoder (core/dtype.h) into the
//    panel: correct, not fast.
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/decode_row_order.h"
#include "kernels/cpu/matmul_packed_cpu.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Output features per micro-tile; activation rows per micro-tile (register budget: MR*NR
// accumulators + NR weight vectors + 1 activation vector; AVX-512 has 32 registers, AVX2 16).
constexpr std::size_t kNR = 4;
#if HWY_TARGET <= HWY_AVX3
constexpr std::size_t kMR = 4;
#else
constexpr std::size_t kMR = 2;
#endif
constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);

HWY_INLINE VF LoadAsF32(DF df, const float* p) { return hn::LoadU(df, p); }
HWY_INLINE VF LoadAsF32(DF df, const hwy::float16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
HWY_INLINE VF LoadAsF32(DF df, const hwy::bfloat16_t* p) {
  const hn::Rebind<hwy::bfloat16_t, DF> db;
  return hn::PromoteTo(df, hn::LoadU(db, p));
}

// Exact scalar conversions for the k tail (the same values PromoteTo gives). memcpy: a row
// stride need not keep rows aligned to the element size.
HWY_INLINE float ScalarAsF32(const float* p, std::size_t i) {
  float value;
  std::memcpy(&value, p + i, sizeof(float));
  return value;
}
HWY_INLINE float ScalarAsF32(const hwy::float16_t* p, std::size_t i) {
  std::uint16_t bits;
  std::memcpy(&bits, p + i, 2);
  return f16_to_f32(bits);
}
HWY_INLINE float ScalarAsF32(const hwy::bfloat16_t* p, std::size_t i) {
  std::uint16_t bits;
  std::memcpy(&bits, p + i, 2);
  return bf16_to_f32(bits);
}

// out[r][c] = sum_k x_rows[r][k] * w_rows[c][k]. Rows may repeat (a partial tile repeats its
// last row; the caller discards the duplicates).
template <std::size_t MR, std::size_t NR, typename WeightT>
HWY_INLINE void DotTile(const float* const* x_rows, const WeightT* const* w_rows, std::size_t k,
                        float out[MR][NR]) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  VF acc[MR][NR];
  for (std::size_t r = 0; r < MR; ++r) {
    for (std::size_t c = 0; c < NR; ++c) acc[r][c] = hn::Zero(df);
  }
  std::size_t i = 0;
  for (; i + lanes <= k; i += lanes) {
    VF w[NR];
    for (std::size_t c = 0; c < NR; ++c) w[c] = LoadAsF32(df, w_rows[c] + i);
    for (std::size_t r = 0; r < MR; ++r) {
      const VF xv = hn::LoadU(df, x_rows[r] + i);
      for (std::size_t c = 0; c < NR; ++c) acc[r][c] = hn::MulAdd(xv, w[c], acc[r][c]);
    }
  }
  if (i < k) {
    HWY_ALIGN float tail[kMaxLanes];
    VF w[NR];
    for (std::size_t c = 0; c < NR; ++c) {
      for (std::size_t j = 0; j < lanes; ++j) tail[j] = i + j < k ? ScalarAsF32(w_rows[c], i + j) : 0.0f;
      w[c] = hn::Load(df, tail);
    }
    for (std::size_t r = 0; r < MR; ++r) {
      for (std::size_t j = 0; j < lanes; ++j) tail[j] = i + j < k ? x_rows[r][i + j] : 0.0f;
      const VF xv = hn::Load(df, tail);
      for (std::size_t c = 0; c < NR; ++c) acc[r][c] = hn::MulAdd(xv, w[c], acc[r][c]);
    }
  }
  for (std::size_t r = 0; r < MR; ++r) {
    for (std::size_t c = 0; c < NR; ++c) out[r][c] = hn::GetLane(hn::SumOfLanes(df, acc[r][c]));
  }
}

struct MatmulShape {
  const float* x;
  std::size_t m;
  std::size_t n;
  std::size_t k;
  const float* bias;
  float* y;
};

// Rows [i0, i0 + MR) of x (clamped to m) against the NR weight rows at w_rows (valid_cols of
// them distinct); writes the valid outputs.
template <std::size_t MR, typename WeightT>
HWY_INLINE void RunTile(const MatmulShape& s, std::size_t i0, const WeightT* const* w_rows,
                        std::size_t n0, std::size_t valid_cols) {
  const float* x_rows[MR];
  const std::size_t valid_rows = std::min(MR, s.m - i0);
  for (std::size_t r = 0; r < MR; ++r) x_rows[r] = s.x + (i0 + std::min(r, valid_rows - 1)) * s.k;
  float out[MR][kNR];
  DotTile<MR, kNR, WeightT>(x_rows, w_rows, s.k, out);
  for (std::size_t r = 0; r < valid_rows; ++r) {
    float* y_row = s.y + (i0 + r) * s.n + n0;
    for (std::size_t c = 0; c < valid_cols; ++c) {
      y_row[c] = s.bias != nullptr ? out[r][c] + s.bias[n0 + c] : out[r][c];
    }
  }
}

// Activation rows per m-tile: the tile (MB × k floats) should stay in L2 while weight blocks
// stream past it.
std::size_t RowsPerMTile(std::size_t k) {
  constexpr std::size_t kTileBytes = 512 * 1024;
  std::size_t rows = kTileBytes / (k * sizeof(float));
  rows = std::clamp<std::size_t>(rows, kMR, 256);
  return rows / kMR * kMR;
}

// Decode (m = 1), weights read in place, in decode_row_order.h's order: kNR rows a pass, one from
// each segment. The arithmetic per output is DotTile's, as in prefill.
template <typename WeightT>
void DecodeDirect(const MatmulShape& s, const WeightRef& w, std::size_t block_begin, std::size_t block_end) {
  static_assert(kNR == kDecodeStreams, "a pass takes one row from each stream");
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  const std::size_t row_begin = block_begin * kNR, row_end = std::min(s.n, block_end * kNR);
  const std::size_t segment_rows = decode_segment_rows(row_begin, row_end);
  for (std::size_t t = 0; t < segment_rows; ++t) {
    std::size_t rows[kNR];
    const WeightT* w_rows[kNR];
    for (std::size_t c = 0; c < kNR; ++c) {
      rows[c] = decode_row(row_begin, segment_rows, c, t);
      // A shorter last segment: repeat a valid row, its output is not written.
      const std::size_t row = rows[c] < row_end ? rows[c] : rows[0];
      w_rows[c] = reinterpret_cast<const WeightT*>(base + row * w.row_stride_bytes);
    }
    float out[1][kNR];
    const float* x_rows[1] = {s.x};
    DotTile<1, kNR, WeightT>(x_rows, w_rows, s.k, out);
    for (std::size_t c = 0; c < kNR; ++c) {
      if (rows[c] < row_end) s.y[rows[c]] = s.bias != nullptr ? out[0][c] + s.bias[rows[c]] : out[0][c];
    }
  }
}

// Prefill (m > 1) with f32 weights read in place.
template <typename WeightT>
void MatmulDirect(const MatmulShape& s, const WeightRef& w, std::size_t block_begin,
                  std::size_t block_end) {
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  const std::size_t mb = RowsPerMTile(s.k);
  for (std::size_t m0 = 0; m0 < s.m; m0 += mb) {
    const std::size_t m1 = std::min(s.m, m0 + mb);
    for (std::size_t b = block_begin; b < block_end; ++b) {
      const std::size_t n0 = b * kNR;
      const std::size_t valid_cols = std::min(kNR, s.n - n0);
      const WeightT* w_rows[kNR];
      for (std::size_t c = 0; c < kNR; ++c) {
        const std::size_t row = n0 + std::min(c, valid_cols - 1);
        w_rows[c] = reinterpret_cast<const WeightT*>(base + row * w.row_stride_bytes);
      }
      for (std::size_t i = m0; i < m1; i += kMR) RunTile<kMR>(s, i, w_rows, n0, valid_cols);
    }
  }
}

// Converts f16/bf16 row(s) to f32 with SIMD (exact).
template <typename HalfT>
void ConvertRow(const HalfT* src, float* dst, std::size_t k) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  std::size_t i = 0;
  for (; i + lanes <= k; i += lanes) hn::StoreU(LoadAsF32(df, src + i), df, dst + i);
  for (; i < k; ++i) dst[i] = ScalarAsF32(src, i);
}

void DecodeRowToF32(const WeightRef& w, std::size_t row, float* dst) {
  const void* src = static_cast<const std::uint8_t*>(w.data) + row * w.row_stride_bytes;
  const std::size_t k = static_cast<std::size_t>(w.cols);
  switch (w.dtype) {
    case DType::F32:
      std::memcpy(dst, src, k * sizeof(float));
      return;
    case DType::F16:
      ConvertRow(static_cast<const hwy::float16_t*>(src), dst, k);
      return;
    case DType::BF16:
      ConvertRow(static_cast<const hwy::bfloat16_t*>(src), dst, k);
      return;
    default:
      traits(w.dtype).dequantize_row(src, dst, k);
      return;
  }
}

// Weights decoded NR rows at a time into a thread-local f32 panel, reused across each m-tile.
void MatmulPanel(const MatmulShape& s, const WeightRef& w, std::size_t block_begin,
                 std::size_t block_end) {
  thread_local std::vector<float> panel;
  if (panel.size() < kNR * s.k) panel.resize(kNR * s.k);
  const std::size_t mb = RowsPerMTile(s.k);
  for (std::size_t m0 = 0; m0 < s.m; m0 += mb) {
    const std::size_t m1 = std::min(s.m, m0 + mb);
    for (std::size_t b = block_begin; b < block_end; ++b) {
      const std::size_t n0 = b * kNR;
      const std::size_t valid_cols = std::min(kNR, s.n - n0);
      const float* w_rows[kNR];
      for (std::size_t c = 0; c < kNR; ++c) {
        const std::size_t decoded = std::min(c, valid_cols - 1);  // a partial block repeats its last row
        if (c == decoded) DecodeRowToF32(w, n0 + c, panel.data() + c * s.k);
        w_rows[c] = panel.data() + decoded * s.k;
      }
      if (m1 - m0 == 1) {
        RunTile<1>(s, m0, w_rows, n0, valid_cols);
      } else {
        for (std::size_t i = m0; i < m1; i += kMR) RunTile<kMR>(s, i, w_rows, n0, valid_cols);
      }
    }
  }
}

std::int64_t DispatchedTarget() { return HWY_TARGET; }

void MatmulImpl(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w,
                const float* bias, float* y) {
  const MatmulShape s{x, static_cast<std::size_t>(m), static_cast<std::size_t>(w.rows),
                      static_cast<std::size_t>(w.cols), bias, y};
  if (s.m == 0 || s.n == 0) return;
  const std::size_t n_blocks = (s.n + kNR - 1) / kNR;
  pool.parallel_for(n_blocks, [&](std::size_t begin, std::size_t end) {
    if (s.m == 1 && w.dtype == DType::F32) {
      DecodeDirect<float>(s, w, begin, end);
    } else if (s.m == 1 && w.dtype == DType::F16) {
      DecodeDirect<hwy::float16_t>(s, w, begin, end);
    } else if (s.m == 1 && w.dtype == DType::BF16) {
      DecodeDirect<hwy::bfloat16_t>(s, w, begin, end);
    } else if (w.dtype == DType::F32) {
      MatmulDirect<float>(s, w, begin, end);
    } else {
      MatmulPanel(s, w, begin, end);
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(MatmulImpl);
HWY_EXPORT(DispatchedTarget);

const char* simd_target_name() { return hwy::TargetName(HWY_DYNAMIC_DISPATCH(DispatchedTarget)()); }

void matmul(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
            float* y) {
  // Packed formats (GGUF blocks, eaq's int4/nf4/int8/fp8) compute on their bytes.
  if (has_packed_kernel(w.dtype)) return matmul_packed(pool, x, m, w, bias, y);
  HWY_DYNAMIC_DISPATCH(MatmulImpl)(pool, x, m, w, bias, y);
}

bool has_fast_path(Op op, DType dtype) {
  if (op == Op::kMatmul && has_packed_kernel(dtype)) return true;
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
