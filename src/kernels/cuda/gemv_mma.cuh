// The decode GEMV on the tensor cores, for the integer formats whose codes are exact in f16:
// int4 symmetric with group scales (i4s_g32/g64/g128, and q4_0 = i4s_g32) and int8 per output
// channel (i8_ch). The f32 activations are split into an f16 high part and the f16 rounding of
// what it leaves x 2^11 (22 bits: the products and the tensor core's f32 sums keep f32 precision), and
// each mma.m16n8k16 multiplies 16 rows x 16 columns of codes by them: columns 2b and 2b + 1 of the
// 16x8 B operand are batch row b's high and low parts (4 batch rows an mma). Group scales multiply
// the f32 partial sum of their group; the per-row scale multiplies the final sum.
//
// Why: the chunk kernel (gemv_kernel.cuh) decodes every weight to f32 on the CUDA cores (~10
// instructions a weight for int4 by ncu) and reached 29-38% of the copy bandwidth for int4. Here a
// lane turns 8 nibbles into its A fragment with 9 integer / f16x2 instructions (lop3 into the
// exponent of 1024, then one subtraction or fma a pair), and the tensor core does the
// multiply-adds: ~92 instructions a 512-byte tile in the SASS. Measured on an H200 (docs/cuda.md):
// the int4 GEMVs gain (7B decode +18%), but the kernel stays at 13-49% of the copy bandwidth,
// limited by latency, not issue; int8 ran slower than its chunk kernel, so i8_ch
// uses this layout only when asked (default_gemv_layout).
//
// Layout ("mma tiles", written by gpu_weight.cu): rows in tiles of 16, columns in tiles of
// kTileCols (64 for 4-bit, 32 for 8-bit codes), one 512-byte tile after another, row tile by row
// tile ([rows_padded / 16][cols_padded / kTileCols][512]). In a tile, lane l's 16 bytes are its A
// fragments of the tile's 16-column steps j (4 steps of 4-bit codes, 2 of 8-bit): 4-bit: word j's
// nibble mma_nibble_of(e) is fragment element e; 8-bit: byte e & 3 of word 2j + e / 4, stored as
// code ^ 0x80 (value = byte - 128). Element e of lane l is row mma_a_row(l, e), column
// mma_a_k(l, e) of the step (PTX's m16n8k16 A layout). Scales: i4s f16 [rows_padded / 16][cols_padded
// / G][8][2] (mma_scale_pair); i8_ch f32 [rows_padded]. Padding codes decode to 0 (4-bit: with a zero scale) and padded
// columns of x are read as 0.
//
// Work split: for batch 1-4 on sm_90, gemv_mma_cluster.cu's kernel (a cluster of blocks splits
// the columns of 8 row tiles). Otherwise (gemv_mma_kernel): persistent blocks of n_warps warps
// loop over row tiles; warp w takes column tiles w, w + n_warps, ... of each, its codes and group
// scales kMmaDepth tiles ahead; the warps' f32 sums are added in shared memory. Everything below except the kernel is also
// compiled for the host (EAQ_HD): gemv_emulation.cu runs the same fragments, B operands, scales and
// output mapping on the CPU.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/gemv_formats.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda::detail {

inline constexpr int kMmaTileRows = 16;
inline constexpr int kMmaTileBytes = 512;
inline constexpr int kMmaMaxWarps = 16;

// Row (0..15) and column (0..15) of element e (0..7) of lane `lane`'s A fragment of a 16x16 step.
EAQ_HD int mma_a_row(int lane, int e) { return (lane >> 2) + 8 * ((e >> 1) & 1); }
EAQ_HD int mma_a_k(int lane, int e) { return 2 * (lane & 3) + (e & 1) + 8 * (e >> 2); }
// The lane and element holding row rr (0..15), column kk (0..15) of a step: the inverse of the two above.
EAQ_HD int mma_lane_of(int rr, int kk) { return (rr & 7) * 4 + (kk & 7) / 2; }
EAQ_HD int mma_element_of(int rr, int kk) { return (kk >> 3) * 4 + (rr >> 3) * 2 + (kk & 1); }
// 4-bit codes: the nibble (0..7) of a step's word that holds element e. The decoder below takes
// nibbles 0 and 4 into one half2 (elements 0 and 1), 1 and 5 (2, 3), 2 and 6 (4, 5), 3 and 7 (6, 7).
EAQ_HD int mma_nibble_of(int e) { return (e & 1) * 4 + (e >> 1); }

EAQ_HD std::uint32_t half2_bits(__half2 h) {
  const __half2_raw r = h;
  return static_cast<std::uint32_t>(r.x) | static_cast<std::uint32_t>(r.y) << 16;
}
EAQ_HD __half2 bits_half2(std::uint32_t u) { return half2_of(u); }
// Element e of an A fragment as a float.
EAQ_HD float fragment_value(const std::uint32_t (&a)[4], int e) {
  const float2 f = __half22float2(bits_half2(a[e >> 1]));
  return (e & 1) ? f.y : f.x;
}

#ifdef __CUDA_ARCH__
// f16x2 arithmetic on 32-bit registers (through __half2 the compiler re-packed every result: two
// more instructions a register, measured in the SASS).
__device__ __forceinline__ std::uint32_t and_or(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  std::uint32_t d;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(b), "r"(c));  // (a & b) | c
  return d;
}
__device__ __forceinline__ std::uint32_t sub_f16x2(std::uint32_t a, std::uint32_t b) {
  std::uint32_t d;
  asm("sub.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}
__device__ __forceinline__ std::uint32_t fma_f16x2(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  std::uint32_t d;
  asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}
#endif

// Group scales of the tile layout: [rows_padded / 16][groups][8][2] f16, the scales of rows g
// and g + 8 of a row tile side by side, so a lane's pair is one 4-byte load and a warp's 16 rows
// one 32-byte sector (in row order, [rows][groups], a warp asked for 16 sectors twice a tile).
// groups = a.scale_row_bytes / 2. The pair of row g (0..7) of row tile tr, group `group`:
EAQ_HD const __half2* mma_scale_pair(const GemvArgs& a, std::int64_t tr, int g, std::int64_t group) {
  const std::int64_t groups = static_cast<std::int64_t>(a.scale_row_bytes / 2);
  return reinterpret_cast<const __half2*>(a.scales) + (tr * groups + group) * 8 + g;
}

// int4 symmetric, groups of G: value = (nibble - 8) * d, d f16 per group.
template <int G>
struct MmaI4S {
  static constexpr int kBits = 4;
  static constexpr int kTileCols = 64;
  static constexpr int kSteps = 4;
  static constexpr int kGroup = G;  // columns per scale; 0: a scale per row only
  // Lane's A fragment of step j: the nibbles minus 8, exact in f16.
  EAQ_HD static void fragment(const uint4& q, int j, std::uint32_t (&a)[4]) {
    const std::uint32_t w = word_of(q, j);
#ifdef __CUDA_ARCH__
    // 0x6400 | n is the half 1024 + n; 0x6400 | n << 4 is 1024 + 16 n.
    // 1032 = 0x6408, 1/16 = 0x2C00, -72 = 0xD480 (f16).
    const std::uint32_t w2 = w >> 8;
    a[0] = sub_f16x2(and_or(w, 0x000F000Fu, 0x64006400u), 0x64086408u);
    a[1] = fma_f16x2(and_or(w, 0x00F000F0u, 0x64006400u), 0x2C002C00u, 0xD480D480u);
    a[2] = sub_f16x2(and_or(w2, 0x000F000Fu, 0x64006400u), 0x64086408u);
    a[3] = fma_f16x2(and_or(w2, 0x00F000F0u, 0x64006400u), 0x2C002C00u, 0xD480D480u);
#else
    for (int r = 0; r < 4; ++r) {
      const int lo = static_cast<int>((w >> (4 * mma_nibble_of(2 * r))) & 15u) - 8;
      const int hi = static_cast<int>((w >> (4 * mma_nibble_of(2 * r + 1))) & 15u) - 8;
      a[r] = half2_bits(__floats2half2_rn(static_cast<float>(lo), static_cast<float>(hi)));
    }
#endif
  }
  // The f16 group scales of rows `row` (row % 16 < 8) and row + 8 for column col: one half2
  // (mma_scale_pair).
  EAQ_HD static float2 group_scales(const GemvArgs& a, std::int64_t row, std::int64_t col) {
    return __half22float2(load_ro(mma_scale_pair(a, row / kMmaTileRows, static_cast<int>(row % kMmaTileRows), col / G)));
  }
  EAQ_HD static float row_scale(const GemvArgs&, std::int64_t) { return 1.0f; }
};

// int8 per output channel: value = code * scale[row] (scales f32 [rows_padded]).
struct MmaI8Row {
  static constexpr int kBits = 8;
  static constexpr int kTileCols = 32;
  static constexpr int kSteps = 2;
  static constexpr int kGroup = 0;
  EAQ_HD static void fragment(const uint4& q, int j, std::uint32_t (&a)[4]) {
    const std::uint32_t w0 = word_of(q, 2 * j), w1 = word_of(q, 2 * j + 1);
#ifdef __CUDA_ARCH__
    // Byte u under 0x64 is the half 1024 + u; minus 1152 gives u - 128, the code.
    // 1152 = 0x6480 (f16).
    a[0] = sub_f16x2(__byte_perm(w0, 0x64646464u, 0x4140), 0x64806480u);
    a[1] = sub_f16x2(__byte_perm(w0, 0x64646464u, 0x4342), 0x64806480u);
    a[2] = sub_f16x2(__byte_perm(w1, 0x64646464u, 0x4140), 0x64806480u);
    a[3] = sub_f16x2(__byte_perm(w1, 0x64646464u, 0x4342), 0x64806480u);
#else
    for (int r = 0; r < 4; ++r) {
      const std::uint32_t w = r < 2 ? w0 : w1;
      const int k = 2 * (r & 1);
      const int lo = static_cast<int>((w >> (8 * k)) & 0xFFu) - 128;
      const int hi = static_cast<int>((w >> (8 * k + 8)) & 0xFFu) - 128;
      a[r] = half2_bits(__floats2half2_rn(static_cast<float>(lo), static_cast<float>(hi)));
    }
#endif
  }
  EAQ_HD static float row_scale(const GemvArgs& a, std::int64_t row) {
    return load_ro(reinterpret_cast<const float*>(a.scales) + row);
  }
};

// The low part is scaled by 2^11 so that it stays a normal f16 (unscaled, the rest of x = 0.01
// is ~2e-6, a subnormal with 3 significant bits: measured 6e-6 relative error of the dot products
// in the emulation, 2e-7 scaled).
inline constexpr float kMmaLowScale = 2048.0f;

// The f16 high parts of (x0, x1), or with low the f16 rounding of (x - high) x 2^11.
EAQ_HD __half2 mma_split_part(float x0, float x1, bool low) {
  const __half2 high = __floats2half2_rn(x0, x1);
  if (!low) return high;
  const float2 back = __half22float2(high);
  return __floats2half2_rn((x0 - back.x) * kMmaLowScale, (x1 - back.y) * kMmaLowScale);
}

// Lane `lane`'s B fragment of mma m for the 16 columns from c0: column n = lane / 4 of the 16x8
// operand is batch row 4m + n / 2 (zero past `batch`), its f16 high part for even n and the f16
// rounding of (x - high) x 2^11 for odd n; rows k = 2t, 2t + 1 (register 0) and 2t + 8, 2t + 9 (register 1)
// with t = lane % 4. Columns past a.cols read as 0.
EAQ_HD void mma_b_fragment(const GemvArgs& a, int batch, int m, std::int64_t c0, int lane, std::uint32_t (&b)[2]) {
  const int n = lane >> 2, t = lane & 3;
  const int row = 4 * m + (n >> 1);
  float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  if (row < batch) {
    const float* xr = a.x + static_cast<std::int64_t>(row) * a.cols;
EAQ_UNROLL
    for (int h = 0; h < 2; ++h) {
      const std::int64_t col = c0 + 2 * t + 8 * h;
      if (col < a.cols) {
        const float2 p = load_ro(reinterpret_cast<const float2*>(xr + col));
        v[2 * h] = p.x;
        v[2 * h + 1] = p.y;
      }
    }
  }
EAQ_UNROLL
  for (int h = 0; h < 2; ++h) b[h] = half2_bits(mma_split_part(v[2 * h], v[2 * h + 1], (n & 1) != 0));
}

// Batch rows whose split fits kMmaSharedXBytes are split once a block into shared memory (below)
// instead of by every lane at every step from global memory: measured on the H200, the direct
// loads and conversions left the first version of this kernel at half the chunk kernel's speed
// (i4s_g128 11008x4096, batch 1: 31.4 us against 16.2).
inline constexpr int kMmaSharedXBytes = 48 * 1024;
EAQ_HD bool mma_x_in_shared(int batch, std::int64_t cols_padded) {
  return batch <= 4 && static_cast<std::int64_t>(batch) * 4 * cols_padded <= kMmaSharedXBytes;
}
// The split in shared memory: half2 [batch][2 (high, low x 2^11)][cols_padded / 2], each 16
// columns permuted so that lane t's B values (columns 2t, 2t + 1, 2t + 8, 2t + 9) are adjacent:
// column w (0..15) of a step sits in slot mma_split_slot(w).
EAQ_HD int mma_split_slot(int w) { return 4 * ((w & 7) >> 1) + 2 * (w >> 3) + (w & 1); }
// Writes pair i (columns 2i', 2i' + 1 of batch row i / (cols_padded / 2)) of the split. With
// col_base, the split is of x's columns col_base .. col_base + cols_padded - 1 (a slice: the
// cluster kernel's), column c of the split being x's column col_base + c.
EAQ_HD void mma_split_pair(const GemvArgs& a, std::int64_t cols_padded, std::int64_t pair, __half2* split,
                           std::int64_t col_base = 0) {
  // 32-bit index arithmetic (a 64-bit division is a long instruction sequence): cols < 2^31.
  const int pairs = static_cast<int>(cols_padded / 2), i = static_cast<int>(pair), b = i / pairs, c = 2 * (i % pairs);
  float2 v = make_float2(0.0f, 0.0f);
  if (col_base + c < a.cols) {
    v = load_ro(reinterpret_cast<const float2*>(a.x + static_cast<std::int64_t>(b) * a.cols + col_base + c));
  }
  const int slot = ((c & ~15) + mma_split_slot(c & 15)) / 2;
  split[(2 * b) * pairs + slot] = mma_split_part(v.x, v.y, false);
  split[(2 * b + 1) * pairs + slot] = mma_split_part(v.x, v.y, true);
}
// Where lane `lane`'s B operands of mma m start in the split (its batch row and part, columns 2t
// on): nullptr for a batch row past `batch` (read as 0). The kernel computes it once.
EAQ_HD const __half2* mma_split_lane(const __half2* split, std::int64_t cols_padded, int batch, int m, int lane) {
  const int n = lane >> 2, row = 4 * m + (n >> 1);
  if (row >= batch) return nullptr;
  return split + (2 * row + (n & 1)) * (cols_padded / 2) + 2 * (lane & 3);
}
// mma_b_fragment read from the split: the step of columns c0 .. c0 + 15 at the lane's start.
EAQ_HD void mma_split_operand(const __half2* lane_start, std::int64_t c0, std::uint32_t (&b)[2]) {
  if (lane_start == nullptr) {
    b[0] = b[1] = 0u;
    return;
  }
  const __half2* p = lane_start + c0 / 2;
#ifdef __CUDA_ARCH__
  const uint2 v = *reinterpret_cast<const uint2*>(p);
  b[0] = v.x;
  b[1] = v.y;
#else
  b[0] = half2_bits(p[0]);
  b[1] = half2_bits(p[1]);
#endif
}

// Output (batch row, matrix row) of accumulator value i (0..3) of lane `lane` for mma m, in a row
// tile starting at row0: value i is the high (i even) or low part's sum of row row0 + g + 8 (i / 2)
// for batch row 4m + lane % 4; mma_out_value adds the two parts of row half h (0: g, 1: g + 8).
EAQ_HD int mma_out_batch(int lane, int m) { return 4 * m + (lane & 3); }
EAQ_HD std::int64_t mma_out_row(std::int64_t row0, int lane, int half) { return row0 + (lane >> 2) + 8 * half; }
EAQ_HD float mma_out_value(const float (&total)[4], int h) { return total[2 * h] + total[2 * h + 1] * (1.0f / kMmaLowScale); }

__device__ __forceinline__ void mma_16816(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  asm(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Where a lane's B operands of each mma start in the split x in shared memory (nullptr: a batch
// row past `batch`, read as 0).
template <int kMmas>
struct MmaLane {
  const __half2* x[kMmas] = {};  // mma_split_lane
  unsigned shared[kMmas] = {};   // the same as shared-memory addresses (mma_tile's kEveryLane)
};

// Scale groups in a column tile (0: per-row scale only), and a tile's group scales of a lane's
// rows g (x) and g + 8 (y), loaded with the tile's codes: asked for inside the tile, each group
// scale was a round trip to DRAM in the middle of the tile's work.
template <class F>
inline constexpr int kMmaStepsPerGroup = F::kGroup == 0 ? F::kSteps : (F::kGroup / 16 < F::kSteps ? F::kGroup / 16 : F::kSteps);
template <class F>
inline constexpr int kMmaGroupsPerTile = F::kGroup == 0 ? 0 : F::kSteps / kMmaStepsPerGroup<F>;
template <class F>
struct MmaTileData {
  uint4 q;
  __half2 scales[kMmaGroupsPerTile<F> > 0 ? kMmaGroupsPerTile<F> : 1];
};

// Column tile (first column col0) for this lane: acc[m] += (group scale x) codes x B for the
// tile's steps. All of the tile's B operands are asked for before the first mma.
// kEveryLane: the B operands are read at ln.shared, valid for every lane (gemv_mma_cluster.cu
// points the lanes of batch rows past `batch` at row 0's operands, whose sums land in output
// columns nobody stores), so the loads need no null test.
template <class F, int kMmas, bool kSplit, bool kEveryLane = false>
__device__ __forceinline__ void mma_tile(const GemvArgs& a, int batch, const MmaLane<kMmas>& ln, int col0, int lane,
                                         const MmaTileData<F>& tile, float (&acc)[kMmas][4]) {
  constexpr int kStepsPerGroup = kMmaStepsPerGroup<F>;
  const uint4& q = tile.q;
  std::uint32_t bf[F::kSteps][kMmas][2];
EAQ_UNROLL
  for (int j = 0; j < F::kSteps; ++j)
EAQ_UNROLL
    for (int m = 0; m < kMmas; ++m) {
      if constexpr (kSplit && kEveryLane) {
        // ln.shared: the lane's operands' 32-bit shared-memory address (held in one register;
        // from the generic pointer the compiler re-derived it from the thread index every tile).
        const unsigned addr = ln.shared[m] + static_cast<unsigned>(col0 + 16 * j) * 2u;
        asm volatile("ld.shared.v2.u32 {%0, %1}, [%2];\n" : "=r"(bf[j][m][0]), "=r"(bf[j][m][1]) : "r"(addr));
      } else if constexpr (kSplit) {
        mma_split_operand(ln.x[m], col0 + 16 * j, bf[j][m]);
      } else {
        mma_b_fragment(a, batch, m, col0 + 16 * j, lane, bf[j][m]);
      }
    }
  float part[kMmas][4];
EAQ_UNROLL
  for (int j = 0; j < F::kSteps; ++j) {
    if constexpr (F::kGroup != 0) {
      if (j % kStepsPerGroup == 0) {
EAQ_UNROLL
        for (int m = 0; m < kMmas; ++m) part[m][0] = part[m][1] = part[m][2] = part[m][3] = 0.0f;
      }
    }
    std::uint32_t af[4];
    F::fragment(q, j, af);
EAQ_UNROLL
    for (int m = 0; m < kMmas; ++m) {
      if constexpr (F::kGroup != 0) {
        mma_16816(part[m], af, bf[j][m]);
      } else {
        mma_16816(acc[m], af, bf[j][m]);
      }
    }
    if constexpr (F::kGroup != 0) {
      if (j % kStepsPerGroup == kStepsPerGroup - 1) {
        const float2 s = __half22float2(tile.scales[j / kStepsPerGroup]);
EAQ_UNROLL
        for (int m = 0; m < kMmas; ++m) {
          acc[m][0] = fmaf(s.x, part[m][0], acc[m][0]);
          acc[m][1] = fmaf(s.x, part[m][1], acc[m][1]);
          acc[m][2] = fmaf(s.y, part[m][2], acc[m][2]);
          acc[m][3] = fmaf(s.y, part[m][3], acc[m][3]);
        }
      }
    }
  }
}

// Dynamic shared memory of a launch: the split (when mma_x_in_shared), then the warps' sums.
EAQ_HD std::size_t mma_split_bytes(int batch, std::int64_t cols_padded) {
  return mma_x_in_shared(batch, cols_padded) ? static_cast<std::size_t>(batch) * 4 * cols_padded : 0;
}
inline std::size_t mma_shared_bytes(int batch, std::int64_t cols_padded, int n_warps, int n_mmas) {
  return mma_split_bytes(batch, cols_padded) + static_cast<std::size_t>(n_warps) * n_mmas * 4 * 32 * sizeof(float);
}

// Column tiles a warp has in flight: 2 KB of codes a warp.
inline constexpr int kMmaDepth = 4;

// A block of n_warps warps (blockDim.x = 32 x n_warps <= 32 x kMmaMaxWarps; dynamic shared memory
// mma_shared_bytes) takes the row tiles blockIdx.x, blockIdx.x + gridDim.x, ...; in each, warp w
// takes the column tiles w, w + n_warps, ... Its codes stream kMmaDepth tiles ahead across row
// tiles, and x is split into shared memory once a block (kSplit), not once a row tile: with one
// block a row tile, each block's lifetime was a chain of round trips (codes, split, sums) and the
// kernel ran at 30-40% of the copy bandwidth on the H200 though it issued few instructions.
// kMmas = 1 for batch 1-4, 2 for 5-8; without kSplit each lane splits its B operands from x.
//
// The ring: the tile computed is ring[0] and the ring shifts down one slot a tile (register moves
// at the top of the loop in the SASS). A variant that unrolled the loop kMmaDepth times and
// computed each slot in place, without the moves, measured slower on an H100 (7B int4-g128 decode
// 362.0 against 409.3 tok/s, 2026-12-06, docs/cuda.md) and was removed.
template <class F, int kMmas, bool kSplit>
__global__ void __launch_bounds__(kMmaMaxWarps * 32) gemv_mma_kernel(GemvArgs a, int batch) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  const std::int64_t k_tiles = a.n_super, cols_padded = k_tiles * F::kTileCols;
  const std::int64_t row_tiles = (a.rows + kMmaTileRows - 1) / kMmaTileRows;
  constexpr int kTileChunks = kMmaTileBytes / 16;
  const int n_tiles = static_cast<int>(k_tiles);
  // This warp's column tiles a row tile, and its work items (row tile i, column tile j) in order.
  const int per_tile = warp < n_tiles ? (n_tiles - warp - 1) / n_warps + 1 : 0;
  const std::int64_t my_row_tiles = blockIdx.x < row_tiles ? (row_tiles - blockIdx.x - 1) / gridDim.x + 1 : 0;
  const std::int64_t items = my_row_tiles * per_tile;
  const uint4* codes = reinterpret_cast<const uint4*>(a.codes) + lane;
  // The load cursor: the item kMmaDepth ahead of the one computed.
  std::int64_t load_tr = blockIdx.x;
  int load_j = 0;
  auto load_next = [&](std::int64_t item) {
    MmaTileData<F> t{};
    if (item < items) {
      const std::int64_t kt = warp + load_j * n_warps;
      t.q = load_stream16(codes + (load_tr * k_tiles + kt) * kTileChunks);
      if constexpr (kMmaGroupsPerTile<F> > 0) {
        const __half2* pairs = mma_scale_pair(a, load_tr, lane >> 2, 0);
EAQ_UNROLL
        for (int g = 0; g < kMmaGroupsPerTile<F>; ++g) {
          const unsigned group = static_cast<unsigned>(kt * F::kTileCols + g * kMmaStepsPerGroup<F> * 16) / F::kGroup;
          t.scales[g] = load_ro(pairs + group * 8);
        }
      }
      if (++load_j == per_tile) {
        load_j = 0;
        load_tr += gridDim.x;
      }
    }
    return t;
  };
  MmaTileData<F> ring[kMmaDepth];
EAQ_UNROLL
  for (int d = 0; d < kMmaDepth; ++d) ring[d] = load_next(d);
  // Codes are not written by any kernel: the first tiles stream before the wait (pdl.cuh).
  pdl_wait();
  MmaLane<kMmas> ln;
  if constexpr (kSplit) {
    __half2* split = reinterpret_cast<__half2*>(smem);
    // Four pairs a thread at a time, so that their loads are in flight together.
    const int pairs = batch * static_cast<int>(cols_padded / 2), stride = static_cast<int>(blockDim.x);
    for (int i = threadIdx.x; i < pairs; i += 4 * stride) {
EAQ_UNROLL
      for (int u = 0; u < 4; ++u) {
        if (i + u * stride < pairs) mma_split_pair(a, cols_padded, i + u * stride, split);
      }
    }
EAQ_UNROLL
    for (int m = 0; m < kMmas; ++m) ln.x[m] = mma_split_lane(split, cols_padded, batch, m, lane);
    __syncthreads();
  }
  float* sums = reinterpret_cast<float*>(smem + mma_split_bytes(batch, cols_padded));  // [n_warps][kMmas * 4][32]
  // Row tile tr done: the warps' sums added in shared memory and stored by warp 0. Every warp of
  // the block calls it once a row tile (its two barriers).
  auto finish_row_tile = [&](std::int64_t tr, const float (&acc)[kMmas][4]) {
    const std::int64_t row0 = tr * kMmaTileRows;
EAQ_UNROLL
    for (int m = 0; m < kMmas; ++m)
EAQ_UNROLL
      for (int i = 0; i < 4; ++i) sums[(warp * kMmas * 4 + m * 4 + i) * 32 + lane] = acc[m][i];
    __syncthreads();
    if (warp == 0) {
EAQ_UNROLL
      for (int m = 0; m < kMmas; ++m) {
        float total[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int w = 0; w < n_warps; ++w)
EAQ_UNROLL
          for (int i = 0; i < 4; ++i) total[i] += sums[(w * kMmas * 4 + m * 4 + i) * 32 + lane];
        const int b = mma_out_batch(lane, m);
        if (b >= batch) continue;
EAQ_UNROLL
        for (int h = 0; h < 2; ++h) {
          const std::int64_t row = mma_out_row(row0, lane, h);
          if (row < a.rows) store_output(a, b, row, mma_out_value(total, h) * F::row_scale(a, row));
        }
      }
    }
    __syncthreads();  // the sums are free for the next row tile
  };
  std::int64_t item = 0;
  for (std::int64_t tr = blockIdx.x; tr < row_tiles; tr += gridDim.x) {
    float acc[kMmas][4];
EAQ_UNROLL
    for (int m = 0; m < kMmas; ++m) acc[m][0] = acc[m][1] = acc[m][2] = acc[m][3] = 0.0f;
    for (int j = 0; j < per_tile; ++j, ++item) {
      const MmaTileData<F> tile = ring[0];
EAQ_UNROLL
      for (int d = 0; d + 1 < kMmaDepth; ++d) ring[d] = ring[d + 1];
      ring[kMmaDepth - 1] = load_next(item + kMmaDepth);
      mma_tile<F, kMmas, kSplit>(a, batch, ln, (warp + j * n_warps) * F::kTileCols, lane, tile, acc);
    }
    finish_row_tile(tr, acc);
  }
  pdl_launch_dependents();
}

// Column tile kt of row tile tr (lane's 16-byte chunk) as f16 values: value = code x group scale
// (x row scale when apply_row_scale) rounded once, handed to put(row, col, half2 of columns col and
// col + 1) for the pairs below a.cols. The prefill's dequantization (dequantize_f16.cu stages a
// block's tiles in shared memory; gemv_emulation.cu writes them directly on the host).
// decode_mma_chunk takes the lane's 16 code bytes already loaded (mma_chunk_codes), so that a
// warp can have several tiles' loads in flight before it decodes any.
EAQ_HD const std::uint8_t* mma_chunk_codes(const GemvArgs& a, std::int64_t tr, std::int64_t kt, int lane) {
  return a.codes + (tr * a.n_super + kt) * kMmaTileBytes + lane * 16;
}
template <class F, class Put>
EAQ_HD void decode_mma_chunk(const GemvArgs& a, const uint4& q, std::int64_t tr, std::int64_t kt, int lane,
                             bool apply_row_scale, Put&& put) {
  const std::int64_t row0 = tr * kMmaTileRows;
EAQ_UNROLL
  for (int j = 0; j < F::kSteps; ++j) {
    std::uint32_t af[4];
    F::fragment(q, j, af);
    const std::int64_t c0 = kt * F::kTileCols + 16 * j;
    float2 gs = make_float2(1.0f, 1.0f);
    if constexpr (F::kGroup != 0) gs = F::group_scales(a, mma_out_row(row0, lane, 0), c0);
EAQ_UNROLL
    for (int e = 0; e < 8; e += 2) {  // elements e, e + 1: one row, adjacent columns
      const std::int64_t row = row0 + mma_a_row(lane, e), col = c0 + mma_a_k(lane, e);
      if (col >= a.cols) continue;
      float scale = (e >> 1) & 1 ? gs.y : gs.x;
      if (apply_row_scale) scale *= F::row_scale(a, row);
      put(row, col, __floats2half2_rn(fragment_value(af, e) * scale, fragment_value(af, e + 1) * scale));
    }
  }
}
template <class F, class Put>
EAQ_HD void dequantize_mma_chunk(const GemvArgs& a, std::int64_t tr, std::int64_t kt, int lane, bool apply_row_scale,
                                 Put&& put) {
  decode_mma_chunk<F>(a, load_stream16(mma_chunk_codes(a, tr, kt, lane)), tr, kt, lane, apply_row_scale, put);
}

// Launches the kernel for `batch` (1..8) activation rows; instantiated in gemv_mma.cu.
template <class F>
void launch_gemv_mma(const GemvArgs& a, int batch, cudaStream_t stream);

// The column-split cluster kernel (gemv_mma_cluster.cu, sm_90, batch 1-4, the only one with the
// gated epilogue): whether it is wanted (a GPU with clusters, and EAQ_CUDA_MMA_KERNEL unset or
// cluster; rows: gemv_mma_kernel for every batch, A/B), whether it runs for a matrix of `rows` rows
// and k_tiles column tiles of tile_cols at `batch` (gate_rows: the gated epilogue's, 0 without),
// and its launch, false (nothing launched) where it does not run.
bool gemv_mma_cluster_wanted();
inline constexpr int kMmaClusterMaxBatch = 4;
bool gemv_mma_cluster_runs(std::int64_t rows, std::int64_t k_tiles, int tile_cols, int batch, std::int64_t gate_rows);
template <class F>
bool launch_gemv_mma_cluster(const GemvArgs& a, int batch, cudaStream_t stream);
// Parts of the cluster kernel, cumulative, for benchmarks/cuda/bench_tile_stream.cu (instantiated
// for i4s_g128): its weight loads alone (codes and group scales, folded, no wait); + the wait and
// the split of x into shared memory; + the mma (the sums left unmerged); all of it with the
// blocks' sums merged by pushes (the engine's default); all of it with the merge by cluster
// barriers (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier).
inline constexpr int kMmaClusterStageLoads = 1, kMmaClusterStageSplit = 2, kMmaClusterStageMma = 3,
                     kMmaClusterStageAll = 4, kMmaClusterStageAllBarriers = 5;
template <class F>
bool launch_gemv_mma_cluster_stage(const GemvArgs& a, int batch, cudaStream_t stream, int stage);

// Calls fn(Fmt{}) with the tensor-core format of `dtype`; false when it has none.
template <class Fn>
bool visit_mma_format(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::I8_CH: fn(MmaI8Row{}); return true;
    case DType::Q4_0:  // q4_0 blocks are i4s_g32 blocks: (q - 8) * d, same nibble order
    case DType::I4S_G32: fn(MmaI4S<32>{}); return true;
    case DType::I4S_G64: fn(MmaI4S<64>{}); return true;
    case DType::I4S_G128: fn(MmaI4S<128>{}); return true;
    default: return false;
  }
}

}  // namespace eaq::kernels::cuda::detail
