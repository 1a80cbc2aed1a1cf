// The one decode GEMV kernel, a template over the weight format (gemv_formats.cuh), the batch and
// the rows per warp. Included by the per-format translation units gemv_<format>.cu only.
//
// Work split: a block of kGemvWarps warps owns R consecutive output rows; warp w walks the
// super-chunks w, w + kGemvWarps, ... of them (split K: short rows still give every SM many warps
// with loads in flight — one warp walking a whole 2048-long row took four HBM round trips in a row,
// measured as ~4 us of fixed cost per call on the H200); lane l reads the 16-byte code chunk l of
// each 32-chunk "super-chunk" of its R rows (512 contiguous bytes per row per step: coalesced
// 16-byte loads), the warp's next super-chunk's codes already in flight while the current one is
// computed. Codes are decoded four weights at a time
// ("pieces", laid out so the warp's float4 activation loads are contiguous) against a float4 of each
// activation row; a piece's dot product is scaled by its group's scale, sums stay f32, and the warp's
// 32 partial sums are combined by shuffles and the block's warps through shared memory. Rows past
// the end reuse the last row's addresses (valid memory) and write nothing.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/gemv_launch.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda::detail {

inline constexpr int kGemvWarps = 4;
inline constexpr int kGemvThreads = 32 * kGemvWarps;

// Rows per block by batch: a larger batch re-reads each activation float4 for more rows (R) so the
// L1 traffic of the activations stays under the weights' HBM stream; a batch of 1-2 keeps R small
// so that even 2048-row matrices spread over every SM with several blocks each.
constexpr int gemv_rows_per_block(int batch) { return batch <= 2 ? 2 : 4; }

EAQ_HD float dot4_add(const float4& w, const float4& x, float t) {
  t = fmaf(w.x, x.x, t);
  t = fmaf(w.y, x.y, t);
  t = fmaf(w.z, x.z, t);
  return fmaf(w.w, x.w, t);
}

// Pieces unrolled per step: all of them for batch 1-2; two at a time for larger batches, whose fully
// unrolled step (R rows x 8 pieces x B rows of x) is tens of KB of code that the instruction cache
// cannot hold (measured: batch 8 took 18-44 us per 2048x2048 int4 call under ncu on the H100).
template <int B, int kPieces>
inline constexpr int kGemvPieceUnroll = B <= 2 ? kPieces : 2;

template <class F, int B, int R>
EAQ_HD void gemv_step(const GemvArgs& a, std::int64_t s, int lane, const std::int64_t (&row)[R],
                      const uint4 (&q)[R], const float* lut, float (&acc)[R][B]) {
  constexpr int kPieces = F::kElems / 4;
  constexpr int kUnroll = kGemvPieceUnroll<B, kPieces>;
  constexpr std::int64_t kSuper = 32 * F::kElems;
EAQ_UNROLL_BY(kUnroll)
  for (int p = 0; p < kPieces; ++p) {
    const std::int64_t pos = s * kSuper + p * 128 + lane * 4;
    // Past cols (the last super-chunk's padding: zero codes and scales) x is read as 0.
    const bool inside = pos < a.cols;
    float4 xv[B];
EAQ_UNROLL
    for (int b = 0; b < B; ++b) {
      xv[b] = inside ? load_ro(reinterpret_cast<const float4*>(a.x + b * a.cols + pos))
                     : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
EAQ_UNROLL
    for (int r = 0; r < R; ++r) {
      const typename F::Meta m = F::load_meta(a, row[r], pos);
      const float4 w = F::decode(q[r], p, m, lut);
      if constexpr (F::kGroupScale) {
        const float sc = F::group_scale(m);
EAQ_UNROLL
        for (int b = 0; b < B; ++b) acc[r][b] = fmaf(sc, dot4_add(w, xv[b], 0.0f), acc[r][b]);
      } else {
EAQ_UNROLL
        for (int b = 0; b < B; ++b) acc[r][b] = dot4_add(w, xv[b], acc[r][b]);
      }
    }
  }
}

// One super-chunk a warp is in flight: the next one loads while this one computes, then moves into
// this one's registers. A ring of 2 or 3 super-chunks computed in place (the loop unrolled) measured
// slower on an H100 (7B int8 decode 304.3 against 317.9 tok/s at 3, 2026-12-06; depth 2 and 4 of an
// earlier form lost on q8_0: docs/cuda.md) and was removed; so was a two-deep shift register (7B
// int8 314.7 against 351.4, 2026-12-06).
//
// Lane `lane`'s partial sums acc[r][b] over its chunks of super-chunks s_begin, s_begin + s_step, ...
// of the rows of slots row0 .. row0 + R - 1 (gemv_slot_row; slots past the end read the last one).
// The kernel adds the 32 lanes' sums by shuffles and the warps' in shared memory; gemv_emulation.cu
// runs this same function for each warp and lane on the CPU. Calls pdl_wait() (before reading x)
// on every path.
template <class F, int B, int R>
EAQ_HD void gemv_lane_partial(const GemvArgs& a, std::int64_t row0, int lane, const float* lut,
                              std::int64_t s_begin, int s_step, float (&acc)[R][B]) {
  std::int64_t row[R];
EAQ_UNROLL
  for (int r = 0; r < R; ++r) row[r] = gemv_slot_row(a, row0 + r < a.rows ? row0 + r : a.rows - 1);
EAQ_UNROLL
  for (int r = 0; r < R; ++r)
EAQ_UNROLL
    for (int b = 0; b < B; ++b) acc[r][b] = 0.0f;

  // Group scales are read piece by piece inside each step, where a DRAM round trip per step stalled
  // the warp (measured on the H100: int4 at batch 1 reached 40-65% of the copy bandwidth, int8 with
  // its single row scale 69-93%). The rows' scales are small (scale_row_bytes: 64 B to ~1 KB), so
  // every lane asks for its 32-byte sectors of them up front.
  // The block's warps share the SM's L1: warp w asks for every kGemvWarps-th sector.
  if (a.scale_row_bytes > 0) {
    const std::size_t first = static_cast<std::size_t>((s_begin % s_step) * 32 + lane) * 32;
EAQ_UNROLL
    for (int r = 0; r < R; ++r) {
      for (std::size_t off = first; off < a.scale_row_bytes; off += static_cast<std::size_t>(s_step) * 32 * 32) {
        prefetch_l1(a.scales + row[r] * a.scale_row_bytes + off);
      }
    }
  }
  const std::int64_t n_super = a.n_super;
  if (s_begin >= n_super) {  // a short row: this warp has no super-chunk
    pdl_wait();
    return;
  }
  uint4 q[R];
EAQ_UNROLL
  for (int r = 0; r < R; ++r) q[r] = F::load_codes(a, row[r], s_begin * 32 + lane);
  // Codes are not written by any kernel, so the first ones are loaded before waiting on the
  // previous kernel (pdl.cuh) and stream from HBM during its tail. The activations x are its
  // output and are read only after the wait. (Prefetching further super-chunks into L2 here was
  // measured slower: each prefetched line was asked of L2 twice. So was prefetching each lane's x
  // into L1 here: 7B int8 decode 230.7 against 324.8 tok/s, H100, 2026-12-06.)
  pdl_wait();
  for (std::int64_t s = s_begin; s < n_super; s += s_step) {
    // The next super-chunk's codes are in flight while this one computes. The last step loads
    // nothing: reloading its own chunk there (one L2 hit) left every warp waiting for that load
    // before it could leave (ncu on an H100: 17% of the 7B int8 gate|up GEMV's stall samples).
    const bool more = s + s_step < n_super;
    uint4 qn[R];
EAQ_UNROLL
    for (int r = 0; r < R; ++r) {
      qn[r] = make_uint4(0u, 0u, 0u, 0u);
      if (more) qn[r] = F::load_codes(a, row[r], (s + s_step) * 32 + lane);
    }
    gemv_step<F, B, R>(a, s, lane, row, q, lut, acc);
EAQ_UNROLL
    for (int r = 0; r < R; ++r) q[r] = qn[r];
  }
}

// Gated: output (b, j) for pair i of the block whose first slot is row0 (j = row0 / 2 + i) from the
// block's slot totals (gate at slot 2i, up at 2i + 1, before their row scales).
template <class F, int B, int R>
EAQ_HD void store_gated_output(const GemvArgs& a, std::int64_t row0, int i, int b, const float (&total)[R][B]) {
  const std::int64_t j = row0 / 2 + i;
  if (j >= a.gate_rows) return;
  const float g = total[2 * i][b] * F::row_scale(a, j), u = total[2 * i + 1][b] * F::row_scale(a, a.gate_rows + j);
  a.y[b * a.gate_rows + j] = gated_value(g, u, a.gelu_tanh != 0);
}

template <class F, int B, int R>
__global__ void __launch_bounds__(kGemvThreads) gemv_kernel(GemvArgs a) {
  __shared__ float lut[16];
  __shared__ float warp_sums[kGemvWarps][R][B];
  if constexpr (F::kUsesLut) {
    if (threadIdx.x < 16) lut[threadIdx.x] = a.lut[threadIdx.x];
    __syncthreads();
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * R;
  float acc[R][B];
  gemv_lane_partial<F, B, R>(a, row0, lane, lut, warp, kGemvWarps, acc);
  // The next kernel may be scheduled once every block has streamed its codes (earlier, its
  // waiting blocks and their prefetches competed with this kernel's stream: measured slower).
  pdl_launch_dependents();

EAQ_UNROLL
  for (int r = 0; r < R; ++r)
EAQ_UNROLL
    for (int b = 0; b < B; ++b)
EAQ_UNROLL
      for (int off = 16; off > 0; off >>= 1) acc[r][b] += __shfl_xor_sync(0xffffffffu, acc[r][b], off);
  if (lane == 0) {
EAQ_UNROLL
    for (int r = 0; r < R; ++r)
EAQ_UNROLL
      for (int b = 0; b < B; ++b) warp_sums[warp][r][b] = acc[r][b];
  }
  __syncthreads();
  if (a.gate_rows > 0) {
    // Pairs (gate, up) of the block's slots: the sums into warp 0's place, then one thread a pair.
    if (threadIdx.x < R * B) {
      const int r = static_cast<int>(threadIdx.x) / B, b = static_cast<int>(threadIdx.x) % B;
      float total = 0.0f;
EAQ_UNROLL
      for (int w = 0; w < kGemvWarps; ++w) total += warp_sums[w][r][b];
      warp_sums[0][r][b] = total;  // each thread reads and writes only its own (r, b)
    }
    __syncthreads();
    if (threadIdx.x < R / 2 * B) {
      const int i = static_cast<int>(threadIdx.x) / B, b = static_cast<int>(threadIdx.x) % B;
      store_gated_output<F, B, R>(a, row0, i, b, warp_sums[0]);
    }
    return;
  }
  if (threadIdx.x < R * B) {
    const int r = static_cast<int>(threadIdx.x) / B, b = static_cast<int>(threadIdx.x) % B;
    if (row0 + r < a.rows) {
      float total = 0.0f;
EAQ_UNROLL
      for (int w = 0; w < kGemvWarps; ++w) total += warp_sums[w][r][b];
      store_output(a, b, row0 + r, total * F::row_scale(a, row0 + r));
    }
  }
}

template <class F, int B>
void launch_gemv_batch(const GemvArgs& a, cudaStream_t stream) {
  constexpr int R = gemv_rows_per_block(B);
  const unsigned blocks = static_cast<unsigned>((a.rows + R - 1) / R);
  (void)launch_pdl(gemv_kernel<F, B, R>, blocks, kGemvThreads, 0, stream, a);
}

template <class F>
void launch_gemv(const GemvArgs& a, int batch, cudaStream_t stream) {
  switch (batch) {
    case 1: launch_gemv_batch<F, 1>(a, stream); break;
    case 2: launch_gemv_batch<F, 2>(a, stream); break;
    case 3: launch_gemv_batch<F, 3>(a, stream); break;
    case 4: launch_gemv_batch<F, 4>(a, stream); break;
    case 5: launch_gemv_batch<F, 5>(a, stream); break;
    case 6: launch_gemv_batch<F, 6>(a, stream); break;
    case 7: launch_gemv_batch<F, 7>(a, stream); break;
    default: launch_gemv_batch<F, 8>(a, stream); break;
  }
}

}  // namespace eaq::kernels::cuda::detail
