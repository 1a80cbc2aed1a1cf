// The cluster decode attention kernel (sm_90) and its launcher. The dispatch
// (when it runs instead of split-K) is attention_decode() in attention_decode.cu; the row loads,
// scoring and query it shares with the split-K kernel are in attention_decode_vec.cuh.
#include "kernels/cuda/attention_decode_vec.cuh"
#include "kernels/cuda/cluster_smem.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/pdl.cuh"

#include <cooperative_groups.h>

namespace eaq::kernels::cuda::detail {

namespace {

// kPush: block `rank`'s share to every block b of the cluster — output dims
// [b * kDims, (b + 1) * kDims) of block_acc and block_ml's (max, sum) — into slot `rank` of b's
// `pushed` (kSlot floats a slot) by st.async, each store counted on b's mbarrier `bar`. Warp 0.
template <int kBlocks, int kDims, int kSlot>
__device__ __forceinline__ void push_share(int rank, const float* block_ml, const float* block_acc, float* pushed,
                                           unsigned long long* bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (threadIdx.x >= 32) return;
  const int lane = threadIdx.x;
  const unsigned local_slot = static_cast<unsigned>(__cvta_generic_to_shared(pushed + rank * kSlot));
  const unsigned local_bar = static_cast<unsigned>(__cvta_generic_to_shared(bar));
  constexpr int kVecs = kDims / 4;  // 16-byte stores a destination
  for (int i = lane; i < kBlocks * kVecs; i += 32) {
    const int b = i / kVecs, v = i % kVecs;
    const float4 a = *reinterpret_cast<const float4*>(block_acc + b * kDims + v * 4);
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.f32 [%0], {%1, %2, %3, %4}, [%5];\n"
                 ::"r"(cluster_address(local_slot + v * 16, b)), "f"(a.x), "f"(a.y), "f"(a.z), "f"(a.w),
                 "r"(cluster_address(local_bar, b))
                 : "memory");
  }
  if (lane < kBlocks) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v2.f32 [%0], {%1, %2}, [%3];\n"
                 ::"r"(cluster_address(local_slot + kDims * 4, lane)), "f"(block_ml[0]), "f"(block_ml[1]),
                 "r"(cluster_address(local_bar, lane))
                 : "memory");
  }
#endif
}

// Cluster decode attention (sm_90): the kClusterBlocks blocks of a head form a thread block
// cluster. Block r takes the r-th of kClusterBlocks equal ranges of the keys up to the position,
// walks it in chunks of kVecWarps * 16 keys (the rows of a chunk all requested at once), and the
// blocks merge their (max, sum, output) triples through distributed shared memory, each block
// writing 1 / kClusterBlocks of the head's output dims: no split workspace, no counter, no second
// pass through L2. Measured on an H100 (bench_attention_decode, 576 positions): 6.60 us against
// 7.18 split-K on the 1.3B heads, 10.81 against 9.58 on the 7B heads (docs/cuda.md) — the split-K
// merge was not most of that kernel's time.
//
// The two cluster barriers: cg's cluster.sync() is barrier.cluster.arrive (release) + wait
// (acquire), and the release compiles to MEMBAR.ALL.GPU (SASS of the sm_90a build): each block
// waits until its earlier stores are visible GPU-wide — at the first barrier, the new token's K/V
// row written into the cache by the block that holds it, so every block of the cluster waits for
// that store's round trip. kLight (the default from 2026-12-06 until kPush below;
// EAQ_CUDA_CLUSTER_SYNC=full for the two cluster.sync() calls) writes that row after the merge
// instead (the merge reads it from shared memory, and later kernels only after this one
// completes), and makes the last barrier's arrive relaxed (no MEMBAR: it only keeps the blocks'
// shared memory alive until the readers, whose loads have returned, are done). Measured on an H100 (DeepSeek-Coder-1.3B f16 decode, three
// A/Bs in two calls): 775.1 / 775.1 / 770.1 tok/s against 768.8 / 767.9 / 764.6.
//
// A variant with 4 blocks a head (so the 7B shape's 32 heads fit one block an SM) measured slower
// on the 7B shape (f16 194.2 against 198.4 tok/s, 2026-12-06) and was removed.
//
// kPush (the default since 2026-12-06; EAQ_CUDA_CLUSTER_SYNC=light or full for the barriers
// above) has no barrier after the kernel's start. There each block initialises an mbarrier that
// expects its share from every block of the cluster (a fence for the init and a relaxed cluster
// barrier, before the PDL wait, while the first K/V rows stream in). After its own keys each block
// pushes block b the (max, sum) and the output dims b merges, by st.async into b's shared memory
// (complete_tx on b's mbarrier, release at cluster scope); b waits on its own mbarrier (acquire at
// cluster scope), merges and leaves. No block reads another's shared memory, so none waits for the
// others to leave, and no store waits on a GPU-wide fence. Measured
// on an H100 (2026-12-06, same call): bench_attention_decode at 576 positions 5.33 against 6.12 us
// (light) on the 1.3B heads, 4.48 against 4.92 on the 1.5B; f16 decode 790.0 / 790.1 against
// 782.7 / 782.4 tok/s (1.3B), 685.9 / 684.6 against 677.9 / 678.2 (1.5B).
template <int kHeadDim, bool kRope, ClusterSync kSync>
__global__ void __launch_bounds__(32 * kVecWarps)
    attention_decode_cluster_kernel(AttentionCudaParams p, RopeKvParams r, const float* q,
                                    const std::int32_t* position_ptr, float* out, bool early) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  namespace cg = cooperative_groups;
  constexpr bool kLight = kSync != ClusterSync::kFull;
  constexpr int kBlocks = kClusterBlocks;
  constexpr int kChunkKeysPerWarp = 16;
  constexpr int kLanesPerKey = kHeadDim / 8;
  constexpr int kKeysPerLoad = 32 / kLanesPerKey;
  constexpr int kLoads = kChunkKeysPerWarp / kKeysPerLoad;
  constexpr int kChunkKeys = kChunkKeysPerWarp * kVecWarps;
  constexpr int kDimsPerBlock = kHeadDim / kBlocks;
  __shared__ __align__(16) float q_shared[kHeadDim];
  __shared__ __align__(16) float new_kv[2][kHeadDim];
  __shared__ float warp_m[kVecWarps], warp_l[kVecWarps];
  __shared__ float warp_acc[kVecWarps][kHeadDim];
  __shared__ float block_ml[2];  // the block's (max, sum), read by the cluster
  __shared__ float block_acc[kHeadDim];
  cg::cluster_group cluster = cg::this_cluster();
  const int rank = static_cast<int>(cluster.block_rank());
  const int head = blockIdx.y;
  // kPush: what the cluster's blocks push this block (slot b from block b: its output dims of
  // this block's range, then its max and sum), and the mbarrier that counts the bytes.
  constexpr int kSlot = kDimsPerBlock + 4;  // floats, a multiple of 4 (16-byte aligned slots)
  constexpr unsigned kPushBytes = kBlocks * (kDimsPerBlock + 2) * 4;
  __shared__ __align__(16) float pushed[kSync == ClusterSync::kPush ? kBlocks : 1][kSlot];
  __shared__ __align__(8) unsigned long long pushed_bar;
  pdl_launch_dependents();
  if constexpr (kSync == ClusterSync::kPush) {
    const unsigned bar = static_cast<unsigned>(__cvta_generic_to_shared(&pushed_bar));
    if (threadIdx.x == 0) {
      mbarrier_init(bar, 1);
      mbarrier_arrive_expect_tx(bar, kPushBytes);
      fence_mbarrier_init();
    }
    // Every block's mbarrier is initialised before any block pushes (the merge below).
    asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
  }
  early = kRope && early;
  if (!early) pdl_wait();
  const int position = *position_ptr;
  const int start = window_start(position, p.sliding_window);
  const int per_block = (position - start + kBlocks) / kBlocks;
  const int first = start + rank * per_block;
  const int end = min(first + per_block, position + 1);  // first >= end: no keys, the block still merges
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const int warp = threadIdx.x >> 5, part = (threadIdx.x & 31) % kLanesPerKey;
  const long long stride = static_cast<long long>(p.n_kv_heads) * kHeadDim;
  const __half* k_base = vec_row_base<kHeadDim>(p.k_cache, kv_head);
  const __half* v_base = vec_row_base<kHeadDim>(p.v_cache, kv_head);
  // With kRope the new token's row is written by this grid: it is not read from the cache.
  const int load_end = kRope ? min(end, position) : end;
  uint4 k_raw[kLoads], v_raw[kLoads];
  load_vec_rows<kHeadDim, kLoads>(k_base, v_base, stride, first + warp * kChunkKeysPerWarp, load_end, k_raw, v_raw);
  if constexpr (kSync == ClusterSync::kPush) asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory");
  if (early) pdl_wait();  // the query is the QKV GEMV's output
  const bool holds_new = first <= position && position < end;
  prepare_vec_query<kHeadDim, kRope>(p, r, q, head, kv_head, position, holds_new, q_shared, new_kv, !kLight);
  float qv[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) qv[j] = q_shared[part * 8 + j];
  VecAttentionState st;
  for (int chunk = first; chunk < end; chunk += kChunkKeys) {
    const int warp_first = chunk + warp * kChunkKeysPerWarp;
    if (chunk != first) load_vec_rows<kHeadDim, kLoads>(k_base, v_base, stride, warp_first, load_end, k_raw, v_raw);
    attend_vec_rows<kHeadDim, kLoads, kRope>(k_raw, v_raw, qv, warp_first, end, position, new_kv[0], new_kv[1],
                                             p.logit_softcap, st);
  }
  store_vec_state<kHeadDim>(st, warp_m, warp_l, &warp_acc[0][0]);
  __syncthreads();
  // The block's triple from its warps'.
  float m = -INFINITY;
  for (int w = 0; w < kVecWarps; ++w) m = fmaxf(m, warp_m[w]);
  for (int d = threadIdx.x; d < kHeadDim; d += blockDim.x) {
    float acc = 0.0f;
    for (int w = 0; w < kVecWarps; ++w) {
      if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w][d];
    }
    block_acc[d] = acc;
  }
  if (threadIdx.x == 0) {
    float l = 0.0f;
    for (int w = 0; w < kVecWarps; ++w) {
      if (warp_m[w] != -INFINITY) l += __expf(warp_m[w] - m) * warp_l[w];
    }
    block_ml[0] = m;
    block_ml[1] = l;
  }
  if constexpr (kSync == ClusterSync::kPush) {
    __syncthreads();  // block_ml and block_acc are the block's
    push_share<kBlocks, kDimsPerBlock, kSlot>(rank, block_ml, block_acc, &pushed[0][0], &pushed_bar);
    if (threadIdx.x < kDimsPerBlock) {
      // Every block's share has landed here (phase 0 of the mbarrier).
      mbarrier_wait_cluster(static_cast<unsigned>(__cvta_generic_to_shared(&pushed_bar)), 0);
      const int d = rank * kDimsPerBlock + threadIdx.x;
      float mm = -INFINITY;
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) mm = fmaxf(mm, pushed[b][kDimsPerBlock]);
      float l = 0.0f, acc = 0.0f;
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) {
        const float bm = pushed[b][kDimsPerBlock];
        const float w = bm == -INFINITY ? 0.0f : __expf(bm - mm);
        l += w * pushed[b][kDimsPerBlock + 1];
        acc += w * pushed[b][threadIdx.x];
      }
      out[static_cast<long long>(head) * kHeadDim + d] = acc / l;
    }
    if (kRope && holds_new) store_new_kv(r, kv_head, position, kHeadDim, new_kv[0], new_kv[1]);
    return;
  }
  cluster.sync();  // every block's triple is visible to the cluster
  if (threadIdx.x < kDimsPerBlock) {
    const int d = rank * kDimsPerBlock + threadIdx.x;
    float bm[kBlocks], bl[kBlocks], ba[kBlocks];
#pragma unroll
    for (int b = 0; b < kBlocks; ++b) {
      const float* ml = cluster.map_shared_rank(block_ml, b);
      bm[b] = ml[0];
      bl[b] = ml[1];
      ba[b] = cluster.map_shared_rank(block_acc, b)[d];
    }
    float mm = -INFINITY;
#pragma unroll
    for (int b = 0; b < kBlocks; ++b) mm = fmaxf(mm, bm[b]);
    float l = 0.0f, acc = 0.0f;
#pragma unroll
    for (int b = 0; b < kBlocks; ++b) {
      const float w = bm[b] == -INFINITY ? 0.0f : __expf(bm[b] - mm);
      l += w * bl[b];
      acc += w * ba[b];
    }
    out[static_cast<long long>(head) * kHeadDim + d] = acc / l;
  }
  if constexpr (kLight) {
    if (kRope && holds_new) store_new_kv(r, kv_head, position, kHeadDim, new_kv[0], new_kv[1]);
    // No block leaves while another reads its shared memory; nothing to publish (relaxed).
    asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
    asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory");
  } else {
    cluster.sync();  // no block leaves while another reads its shared memory
  }
#endif
}

template <int kHeadDim, ClusterSync kSync>
void launch_cluster(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                    const std::int32_t* pos, float* out, bool early, cudaStream_t stream) {
  const dim3 grid(kClusterBlocks, params.n_heads), block(32 * kVecWarps);
  const RopeKvParams r = rope ? *rope : RopeKvParams{};
  if (rope) {
    EAQ_CUDA_CHECK(launch_pdl_cluster(attention_decode_cluster_kernel<kHeadDim, true, kSync>, grid, block, 0,
                                      kClusterBlocks, stream, params, r, q, pos, out, early));
  } else {
    EAQ_CUDA_CHECK(launch_pdl_cluster(attention_decode_cluster_kernel<kHeadDim, false, kSync>, grid, block, 0,
                                      kClusterBlocks, stream, params, r, q, pos, out, false));
  }
}

template <ClusterSync kSync>
void launch_cluster_dims(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                         const std::int32_t* pos, float* out, bool early, cudaStream_t stream) {
  if (params.head_dim == 128) launch_cluster<128, kSync>(params, rope, q, pos, out, early, stream);
  if (params.head_dim == 64) launch_cluster<64, kSync>(params, rope, q, pos, out, early, stream);
  if (params.head_dim == 256) launch_cluster<256, kSync>(params, rope, q, pos, out, early, stream);
}

}  // namespace

void launch_attention_decode_cluster(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                                     const std::int32_t* pos, float* out, bool early, ClusterSync sync,
                                     cudaStream_t stream) {
  switch (sync) {
    case ClusterSync::kFull: launch_cluster_dims<ClusterSync::kFull>(params, rope, q, pos, out, early, stream); break;
    case ClusterSync::kLight: launch_cluster_dims<ClusterSync::kLight>(params, rope, q, pos, out, early, stream); break;
    case ClusterSync::kPush: launch_cluster_dims<ClusterSync::kPush>(params, rope, q, pos, out, early, stream); break;
  }
}

}  // namespace eaq::kernels::cuda::detail
