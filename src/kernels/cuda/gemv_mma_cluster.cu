// The tensor-core decode GEMV split over the columns by a thread block cluster (sm_90, batch 1-4),
// with the epilogues (bias, y +=, and the gated activation of a gate|up matrix whose gate rows are
// a multiple of 16: a cluster then takes 4 gate row tiles and the 4 up row tiles of the same rows):
// the same tile layout, fragments and scales as gemv_mma_kernel (gemv_mma.cuh), another split of
// the work. A cluster of k_splits blocks takes 8 row tiles (128 rows); block s of the cluster
// takes the s-th of k_splits equal ranges of the column tiles, and warp w of each block streams
// row tile w's tiles of that range: one contiguous run of 512-byte tiles a warp, no barrier while
// streaming. The block splits only its columns of x into shared memory (gemv_mma_kernel splits all
// of x once a block), and the blocks add their warps' sums through distributed shared memory at
// the end, in rank order (deterministic), each block writing a k_splits-th of the 128 rows.
//
// Why: in gemv_mma_kernel the warps of a block share every row tile's columns and meet at two
// barriers a row tile, and each of its persistent blocks splits the whole of x before computing.
// Forcing it to fewer warps a block (more blocks, each splitting x) slowed the 7B int4-g128
// decode from 431.0 to 354.6 (8 warps) and 270.6 tok/s (4 warps) on an H200 (2026-12-06,
// docs/cuda.md): the split of x is a large share of its time.
//
// Measured on an H100 (2026-12-06, same call, docs/cuda.md): 7B int4-g128 decode 424.1 tok/s
// against 413.8 / 413.7 with gemv_mma_kernel, 1.3B 1131.9 against 1038.1; bench_gemv batch 1
// i4s_g128 11008x4096 12.10 against 15.16 us, 4096x11008 14.74 / 15.38, 4096x4096 7.11 / 7.82,
// 32000x4096 33.50 / 32.87 (the one shape it lost). The default for batch 1-4 on sm_90;
// EAQ_CUDA_MMA_KERNEL=rows runs gemv_mma_kernel (A/B). Filling the GPU 8 or 32 warps an SM deep
// instead of 16 measured slower (348.0, 401.9 tok/s).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/cuda/cluster_smem.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/gemv_mma.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda::detail {

namespace {

constexpr int kClusterWarps = 8;       // row tiles a cluster: one a warp of each block
constexpr int kClusterDepth = 4;       // tiles a warp has in flight beyond those it computes
constexpr int kMaxClusterSplits = 8;   // the portable cluster size
constexpr int kClusterRows = kClusterWarps * kMmaTileRows;
// The x split of a block's columns: half2 [batch][2][cols / 2] (gemv_mma.cuh's permuted slots).
constexpr std::size_t kMaxClusterSplitBytes = 48 * 1024;

// Tile kt0 + u of a warp's row tile: the lane's 16 bytes of codes (`codes`: tile kt0's, at the
// lane's chunk) and its rows' group scales (`scales`: mma_scale_pair of group 0). Pointers are
// made once a warp, so a tile's loads cost an add or two (recomputed from the row tile each
// tile, the 64-bit address arithmetic was ~20 instructions a tile in the SASS).
template <class F>
__device__ __forceinline__ MmaTileData<F> load_cluster_tile(const uint4* codes, const __half2* scales, unsigned kt0,
                                                            unsigned u) {
  MmaTileData<F> t{};
  t.q = load_stream16(codes + u * (kMmaTileBytes / 16));
  if constexpr (kMmaGroupsPerTile<F> > 0) {
#pragma unroll
    for (int g = 0; g < kMmaGroupsPerTile<F>; ++g) {
      const unsigned group = ((kt0 + u) * F::kTileCols + g * kMmaStepsPerGroup<F> * 16) / F::kGroup;
      t.scales[g] = load_ro(scales + group * 8u);
    }
  }
  return t;
}

// The sum over the cluster's first `splits` blocks of the float at `local` in each one's shared
// memory, in rank order.
__device__ __forceinline__ float cluster_sum(const float* local, int splits) {
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(local));
  float total = 0.0f;
  for (int q = 0; q < splits; ++q) {
    const unsigned remote = cluster_address(address, q);
    float v;
    asm volatile("ld.shared::cluster.f32 %0, [%1];\n" : "=f"(v) : "r"(remote));
    total += v;
  }
  return total;
}

// Floats a block receives at most in the pushed merge: splits x (rows it writes, rounded up) x 4
// batch rows x 2 parts (gated) <= (128 + 7) x 8.
constexpr int kPushedFloats = (kClusterRows + kMaxClusterSplits - 1) * 8;

// The pushed merge: this block's sums of the group (`sums`, [row][4 batch rows]; gated: gate rows,
// then up rows from group_rows) to the blocks that write them — block q writes rows
// [q G / S, (q + 1) G / S) of G = group_rows over S = splits — each row's 4 batch values by one
// st.async into slot `split` of q's `pushed` (row i of q's rows at 4 i, up rows from
// 4 owner_rows), counted on q's mbarrier.
__device__ __forceinline__ void push_sums(const float (*sums)[4], int group_rows, int parts, int split, int splits,
                                          int owner_rows, int slot_floats, float* pushed,
                                          unsigned long long* bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const unsigned local_slot = static_cast<unsigned>(__cvta_generic_to_shared(pushed + split * slot_floats));
  const unsigned local_bar = static_cast<unsigned>(__cvta_generic_to_shared(bar));
  for (int i = static_cast<int>(threadIdx.x); i < group_rows * parts; i += static_cast<int>(blockDim.x)) {
    const int part = i / group_rows, r = i % group_rows;
    int q = 0;
    while (q + 1 < splits && (q + 1) * group_rows / splits <= r) ++q;
    const int at = part * owner_rows * 4 + (r - q * group_rows / splits) * 4;
    const float4 v = *reinterpret_cast<const float4*>(sums[part * group_rows + r]);
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.f32 [%0], {%1, %2, %3, %4}, [%5];\n"
                 ::"r"(cluster_address(local_slot + static_cast<unsigned>(at) * 4u, q)), "f"(v.x), "f"(v.y),
                 "f"(v.z), "f"(v.w), "r"(cluster_address(local_bar, q))
                 : "memory");
  }
#endif
}

// A tile's work: its mma (the kernel), or below kMmaClusterStageMma its codes and scales folded into
// the sums without any (bench_tile_stream's parts of the kernel).
template <class F, int kStage>
__device__ __forceinline__ void consume_tile(const GemvArgs& a, int batch, const MmaLane<1>& ln, int col0, int lane,
                                             const MmaTileData<F>& t, float (&acc)[1][4]) {
  if constexpr (kStage >= kMmaClusterStageMma) {
    mma_tile<F, 1, true, true>(a, batch, ln, col0, lane, t, acc);
  } else {
    unsigned v = t.q.x ^ t.q.y ^ t.q.z ^ t.q.w;
    if constexpr (kMmaGroupsPerTile<F> > 0) v ^= half2_bits(t.scales[0]);
    acc[0][0] += __uint_as_float(v & 0x3f7fffffu);
  }
}

// Grid (k_splits, row groups), cluster (k_splits, 1, 1), kClusterWarps warps a block; dynamic shared
// memory: the split of tiles_per_split column tiles of x (batch x 4 x tiles_per_split x kTileCols bytes).
// kStage < kMmaClusterStageAll runs a part of the kernel, for bench_tile_stream only (gemv_mma.cuh).
// kPush: the blocks merge by pushing (below; the engine's default since 2026-12-07); else by two
// cluster barriers and reads of each other's shared memory (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier).
template <class F, int kStage = kMmaClusterStageAll, bool kPush = true>
__global__ void __launch_bounds__(kClusterWarps * 32) gemv_mma_cluster_kernel(GemvArgs a, int batch,
                                                                              int tiles_per_split) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ __align__(16) float sums[kClusterRows][4];  // [row of the group][batch row]
  // kPush: what the cluster's blocks push this block (slot s from block s: its sums of the rows
  // this block writes, gate then up rows where gated), and the mbarrier that counts the bytes.
  __shared__ __align__(16) float pushed[kPush && kStage == kMmaClusterStageAll ? kPushedFloats : 4];
  __shared__ __align__(8) unsigned long long pushed_bar;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int split = blockIdx.x, splits = gridDim.x;
  const int group_rows = a.gate_rows > 0 ? kClusterRows / 2 : kClusterRows;
  const int parts = a.gate_rows > 0 ? 2 : 1;        // gate and up, or the rows
  const int owner_rows = (group_rows + splits - 1) / splits;  // rows a block writes, at most
  const int slot_floats = owner_rows * 4 * parts;
  if constexpr (kPush && kStage == kMmaClusterStageAll) {
    if (threadIdx.x == 0) {
      const unsigned bar = static_cast<unsigned>(__cvta_generic_to_shared(&pushed_bar));
      const int mine = (split + 1) * group_rows / splits - split * group_rows / splits;
      mbarrier_init(bar, 1);
      mbarrier_arrive_expect_tx(bar, static_cast<unsigned>(splits * mine * parts * 16));
      fence_mbarrier_init();
    }
    // Every block's mbarrier is initialised before any block pushes (after the loop).
    asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
  }
  const std::int64_t row_tiles = (a.rows + kMmaTileRows - 1) / kMmaTileRows;
  // The warp's row tile. Gated (a.gate_rows > 0, a multiple of 16): warps 0-3 take gate row tiles
  // 4y .. 4y + 3 and warps 4-7 the up row tiles of the same rows; past the gate rows, none.
  const std::int64_t gate_tiles = a.gate_rows / kMmaTileRows;
  std::int64_t tr = static_cast<std::int64_t>(blockIdx.y) * kClusterWarps + warp;
  if (a.gate_rows > 0) {
    const std::int64_t j = static_cast<std::int64_t>(blockIdx.y) * (kClusterWarps / 2) + (warp % (kClusterWarps / 2));
    tr = j >= gate_tiles ? row_tiles : (warp < kClusterWarps / 2 ? j : gate_tiles + j);
  }
  unsigned kt0 = static_cast<unsigned>(split * tiles_per_split);  // the loop's first tile (moves)
  // This warp's tiles: those of the split within the row (none past the last row tile).
  int n = min(tiles_per_split, static_cast<int>(a.n_super) - static_cast<int>(kt0));
  if (n < 0 || tr >= row_tiles) n = 0;
  const int cols = tiles_per_split * F::kTileCols;  // the split's width (its last tiles may be past n_super)
  // The warp's row tile (the last one's for a warp past it, which loads nothing): its codes from
  // the split's first tile on, its group scales.
  const std::int64_t tr_valid = tr < row_tiles ? tr : row_tiles - 1;
  const uint4* codes =  // tile kt0's (moves)
      reinterpret_cast<const uint4*>(a.codes) + (tr_valid * a.n_super + kt0) * (kMmaTileBytes / 16) + lane;
  const __half2* scales = nullptr;
  if constexpr (kMmaGroupsPerTile<F> > 0) scales = mma_scale_pair(a, tr_valid, lane >> 2, 0);
  // Two sets of kClusterDepth tiles, ping-pong: one computed while the other streams (a copy of
  // the next set into the current was register moves every tile).
  MmaTileData<F> set0[kClusterDepth] = {}, set1[kClusterDepth] = {};
  // Codes are not written by any kernel: the first tiles stream before the wait (pdl.cuh).
#pragma unroll
  for (int u = 0; u < kClusterDepth; ++u) {
    if (u < n) set0[u] = load_cluster_tile<F>(codes, scales, kt0, u);
  }
  __half2* xs = reinterpret_cast<__half2*>(smem);
  if constexpr (kStage >= kMmaClusterStageSplit) {
    pdl_wait();
    // This block's columns of x, split (high, low x 2^11) into the permuted slots.
    for (int i = threadIdx.x; i < batch * (cols / 2); i += blockDim.x) {
      mma_split_pair(a, cols, i, xs, static_cast<std::int64_t>(kt0) * F::kTileCols);
    }
  }
  // The lane's B operands: its batch row's (row 0's past `batch`: those output columns are not stored).
  MmaLane<1> ln;
  {
    const int n_col = lane >> 2, row = min(n_col >> 1, batch - 1);
    ln.shared[0] = static_cast<unsigned>(
        __cvta_generic_to_shared(xs + (2 * row + (n_col & 1)) * (cols / 2) + 2 * (lane & 3)));
  }
  __syncthreads();
  float acc[1][4] = {{0.0f, 0.0f, 0.0f, 0.0f}};
  // The loop's cursors move a set pair at a time, so each tile's addresses are a constant offset.
  constexpr int kPair = 2 * kClusterDepth;
  for (int left = n; left > 0; left -= kPair) {
#pragma unroll
    for (int u = 0; u < kClusterDepth; ++u) {
      if (kClusterDepth + u < left) set1[u] = load_cluster_tile<F>(codes, scales, kt0, kClusterDepth + u);
    }
#pragma unroll
    for (int u = 0; u < kClusterDepth; ++u) {
      if (u < left) consume_tile<F, kStage>(a, batch, ln, u * F::kTileCols, lane, set0[u], acc);
    }
#pragma unroll
    for (int u = 0; u < kClusterDepth; ++u) {
      if (kPair + u < left) set0[u] = load_cluster_tile<F>(codes, scales, kt0, kPair + u);
    }
#pragma unroll
    for (int u = 0; u < kClusterDepth; ++u) {
      if (kClusterDepth + u < left)
        consume_tile<F, kStage>(a, batch, ln, (kClusterDepth + u) * F::kTileCols, lane, set1[u], acc);
    }
    codes += kPair * (kMmaTileBytes / 16);
    kt0 += kPair;
    ln.shared[0] += kPair * F::kTileCols * 2;  // bytes: two a column (a half2 holds two columns)
  }
  // The next kernel may be scheduled once every block has streamed its weights (gemv_kernel.cuh).
  pdl_launch_dependents();
  if constexpr (kStage < kMmaClusterStageAll) {
    // A part of the kernel (bench_tile_stream): its sums, unmerged, so nothing it did is dead.
    if (acc[0][0] + acc[0][1] + acc[0][2] + acc[0][3] == 1.2345f) a.y[0] = acc[0][0];
    return;
  }
  // Lane (g, t) holds rows g and g + 8 of the warp's tile for batch row t (both x parts).
  const int b = mma_out_batch(lane, 0);
#pragma unroll
  for (int h = 0; h < 2; ++h) sums[warp * kMmaTileRows + (lane >> 2) + 8 * h][b] = mma_out_value(acc[0], h);
  // Block `split` adds rows [r0, r1) of the group (gated: of its gate rows, and their up rows)
  // over the blocks, in rank order.
  const int r0 = split * group_rows / splits, r1 = (split + 1) * group_rows / splits;
  const int outputs = (r1 - r0) * 4;
  if constexpr (kPush) {
    __syncthreads();  // the block's sums are complete
    asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory");  // every mbarrier initialised
    push_sums(sums, group_rows, parts, split, splits, owner_rows, slot_floats, pushed, &pushed_bar);
    if (static_cast<int>(threadIdx.x) < outputs) {
      // Every block's sums of this block's rows have landed here (phase 0 of the mbarrier).
      mbarrier_wait_cluster(static_cast<unsigned>(__cvta_generic_to_shared(&pushed_bar)), 0);
      const int r = r0 + static_cast<int>(threadIdx.x) / 4, bi = static_cast<int>(threadIdx.x) % 4;
      const std::int64_t row = static_cast<std::int64_t>(blockIdx.y) * group_rows + r;
      const int at = (r - r0) * 4 + bi;
      if (bi < batch && row < (a.gate_rows > 0 ? a.gate_rows : a.rows)) {
        float total = 0.0f;
        for (int q = 0; q < splits; ++q) total += pushed[q * slot_floats + at];
        if (a.gate_rows > 0) {
          const std::int64_t up_row = a.gate_rows + row;
          float up = 0.0f;
          for (int q = 0; q < splits; ++q) up += pushed[q * slot_floats + owner_rows * 4 + at];
          a.y[bi * a.gate_rows + row] =
              gated_value(total * F::row_scale(a, row), up * F::row_scale(a, up_row), a.gelu_tanh != 0);
        } else {
          store_output(a, bi, row, total * F::row_scale(a, row));
        }
      }
    }
    return;  // a block's pushes land in blocks that wait for them: none waits for this one
  }
  // Every block's sums visible to the cluster (release / acquire).
  asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
  asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
  if (static_cast<int>(threadIdx.x) < outputs) {
    const int r = r0 + static_cast<int>(threadIdx.x) / 4, bi = static_cast<int>(threadIdx.x) % 4;
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.y) * group_rows + r;
    if (bi < batch && row < (a.gate_rows > 0 ? a.gate_rows : a.rows)) {
      const float total = cluster_sum(&sums[r][bi], splits);
      if (a.gate_rows > 0) {
        const std::int64_t up_row = a.gate_rows + row;
        const float up = cluster_sum(&sums[group_rows + r][bi], splits) * F::row_scale(a, up_row);
        a.y[bi * a.gate_rows + row] = gated_value(total * F::row_scale(a, row), up, a.gelu_tanh != 0);
      } else {
        store_output(a, bi, row, total * F::row_scale(a, row));
      }
    }
  }
  // No block leaves while another reads its shared memory; nothing to publish (relaxed).
  asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
  asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory");
#endif
}

// How deep the clusters fill the GPU, in warps an SM: 16 (EAQ_CUDA_MMA_CLUSTER_WARPS_PER_SM:
// another depth, A/B). Read once.
int cluster_warps_per_sm() {
  static const int depth = [] {
    const char* v = std::getenv("EAQ_CUDA_MMA_CLUSTER_WARPS_PER_SM");
    if (v == nullptr || *v == '\0') return 16;
    char* end = nullptr;
    const long d = std::strtol(v, &end, 10);
    if (*end != '\0' || d < 1 || d > 64) {
      fail("EAQ_CUDA_MMA_CLUSTER_WARPS_PER_SM='{}' is not a warp count from 1 to 64: unset it for 16", v);
    }
    return static_cast<int>(d);
  }();
  return depth;
}

// How the cluster's blocks merge their sums: pushed (the default) or by cluster barriers
// (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier, A/B). Measured on an H100 (2026-12-07, docs/cuda.md): the
// 1.3B int4-g128 decode 1217.6, 1217.1 tok/s pushed against 1195.7, 1195.5 by barriers, the 7B
// even (454.7, 455.0 against 454.9, 453.7); the same bits. Read at each launch (the GEMV tests set
// it; a decode step's launches are captured in a graph once).
bool cluster_merge_pushed() {
  const char* v = std::getenv("EAQ_CUDA_MMA_CLUSTER_MERGE");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "push") == 0) return true;
  if (std::strcmp(v, "barrier") == 0) return false;
  fail("EAQ_CUDA_MMA_CLUSTER_MERGE='{}' is not push or barrier: unset it (push)", v);
}

}  // namespace

bool gemv_mma_cluster_wanted() {
  static const bool wanted = [] {
    const char* v = std::getenv("EAQ_CUDA_MMA_KERNEL");
    if (v == nullptr || *v == '\0' || std::strcmp(v, "cluster") == 0) return true;
    if (std::strcmp(v, "rows") == 0) return false;
    fail("EAQ_CUDA_MMA_KERNEL='{}' is not a tensor-core GEMV: give cluster or rows, or unset it (cluster)", v);
  }();
  return wanted && compute_capability_major() >= 9;
}

namespace {

// The cluster's split of k_tiles column tiles: k_splits blocks of per_split tiles each, enough
// warps to fill the GPU about cluster_warps_per_sm() deep, at most 8 blocks, and a split's x
// within kMaxClusterSplitBytes; {0, 0} where no split fits.
struct ClusterSplit {
  std::int64_t splits = 0, per_split = 0;
};
ClusterSplit cluster_split(std::int64_t row_tiles, std::int64_t k_tiles, int tile_cols, int batch) {
  const std::int64_t want_warps = static_cast<std::int64_t>(std::max(1, multiprocessor_count())) * cluster_warps_per_sm();
  std::int64_t splits = (want_warps + row_tiles - 1) / row_tiles;
  splits = splits < 1 ? 1 : (splits > kMaxClusterSplits ? kMaxClusterSplits : splits);
  splits = splits > k_tiles ? k_tiles : splits;
  std::int64_t per_split = (k_tiles + splits - 1) / splits;
  const auto split_bytes = [&] { return static_cast<std::size_t>(batch) * 4 * per_split * tile_cols; };
  // A wider split than the shared memory holds: more blocks a cluster.
  while (split_bytes() > kMaxClusterSplitBytes && splits < kMaxClusterSplits && splits < k_tiles) {
    ++splits;
    per_split = (k_tiles + splits - 1) / splits;
  }
  if (split_bytes() > kMaxClusterSplitBytes) return {};
  return {(k_tiles + per_split - 1) / per_split, per_split};  // no block without columns
}

}  // namespace

bool gemv_mma_cluster_runs(std::int64_t rows, std::int64_t k_tiles, int tile_cols, int batch, std::int64_t gate_rows) {
  if (!gemv_mma_cluster_wanted() || batch < 1 || batch > kMmaClusterMaxBatch || gate_rows % kMmaTileRows != 0) {
    return false;
  }
  return cluster_split((rows + kMmaTileRows - 1) / kMmaTileRows, k_tiles, tile_cols, batch).splits > 0;
}

namespace {

// Launches `kernel` (gemv_mma_cluster_kernel<F, a stage>) on the cluster split of a's matrix.
template <class F>
bool launch_cluster_kernel(void (*kernel)(GemvArgs, int, int), const GemvArgs& a, int batch, cudaStream_t stream) {
  if (!gemv_mma_cluster_runs(a.rows, a.n_super, F::kTileCols, batch, a.gate_rows)) return false;
  const std::int64_t row_tiles = (a.rows + kMmaTileRows - 1) / kMmaTileRows;
  const ClusterSplit plan = cluster_split(row_tiles, a.n_super, F::kTileCols, batch);
  const std::int64_t splits = plan.splits, per_split = plan.per_split;
  const std::size_t shared = static_cast<std::size_t>(batch) * 4 * per_split * F::kTileCols;
  // Row groups: 8 row tiles, or gated 4 gate row tiles and their up tiles.
  const std::int64_t groups = a.gate_rows > 0 ? (a.gate_rows / kMmaTileRows + kClusterWarps / 2 - 1) / (kClusterWarps / 2)
                                              : (row_tiles + kClusterWarps - 1) / kClusterWarps;
  const dim3 grid(static_cast<unsigned>(splits), static_cast<unsigned>(groups));
  EAQ_CUDA_CHECK(launch_pdl_cluster(kernel, grid, dim3(32 * kClusterWarps), shared, static_cast<unsigned>(splits),
                                    stream, a, batch, static_cast<int>(per_split)));
  return true;
}

}  // namespace

template <class F>
bool launch_gemv_mma_cluster(const GemvArgs& a, int batch, cudaStream_t stream) {
  return launch_cluster_kernel<F>(cluster_merge_pushed() ? gemv_mma_cluster_kernel<F>
                                                         : gemv_mma_cluster_kernel<F, kMmaClusterStageAll, false>,
                                  a, batch, stream);
}

template <class F>
bool launch_gemv_mma_cluster_stage(const GemvArgs& a, int batch, cudaStream_t stream, int stage) {
  const auto kernel = stage == kMmaClusterStageLoads ? gemv_mma_cluster_kernel<F, kMmaClusterStageLoads>
                      : stage == kMmaClusterStageSplit ? gemv_mma_cluster_kernel<F, kMmaClusterStageSplit>
                      : stage == kMmaClusterStageMma   ? gemv_mma_cluster_kernel<F, kMmaClusterStageMma>
                      : stage == kMmaClusterStageAll   ? gemv_mma_cluster_kernel<F>
                                                       : gemv_mma_cluster_kernel<F, kMmaClusterStageAll, false>;
  return launch_cluster_kernel<F>(kernel, a, batch, stream);
}

template bool launch_gemv_mma_cluster<MmaI8Row>(const GemvArgs&, int, cudaStream_t);
template bool launch_gemv_mma_cluster<MmaI4S<32>>(const GemvArgs&, int, cudaStream_t);
template bool launch_gemv_mma_cluster<MmaI4S<64>>(const GemvArgs&, int, cudaStream_t);
template bool launch_gemv_mma_cluster<MmaI4S<128>>(const GemvArgs&, int, cudaStream_t);
template bool launch_gemv_mma_cluster_stage<MmaI4S<128>>(const GemvArgs&, int, cudaStream_t, int);

}  // namespace eaq::kernels::cuda::detail
