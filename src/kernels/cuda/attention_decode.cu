// Decode attention for one query token, three kernels:
// - attention_decode_cluster_kernel (sm_90, head_dim 64/128/256, attention_decode_cluster.cu): the
//   8 blocks of a head form a thread block cluster, each takes an eighth of the keys and they merge
//   through distributed shared memory; used where 8 blocks a head fit one per SM (see
//   use_cluster_kernel);
// - split-K flash-decoding: the cache is cut into splits of split_keys keys (decoder_ops.h), one
//   block per (head, split) scores its keys, and the block that finishes last for its head combines
//   the splits' (max, sum, output) triples (attention_split_merge.cuh): attention_decode_vec_kernel
//   (head_dim 64, 128, 256: 16-byte loads, all of a block's K and V rows requested at once) and
//   the lane-per-key kernel (four warps of 32 keys, attention_tile.cuh) for other head sizes, and
//   for all with EAQ_CUDA_DECODE_ATTENTION=lanes (A/B).
// The position is read on the device, so the launch is the same at every step and a CUDA graph can
// replay it; blocks past the current position exit at once (split-K) or take no keys (cluster).
// With the QKV projection (the rope path), the 16-byte-load and cluster kernels request their first
// K and V rows before waiting for the previous kernel (pdl.cuh; `early`): those rows are of
// earlier positions, written by earlier steps (the new token's row is made by this kernel and never
// read from the cache), and the position was written by the previous step's argmax, so none of it
// is the output of the kernels still finishing. EAQ_CUDA_ATTENTION_EARLY_LOADS=0 turns it off (A/B).
// bench_attention_decode times them.
#include "kernels/cuda/attention_decode_vec.cuh"
#include "kernels/cuda/attention_split_merge.cuh"
#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/qkv_head.cuh"

#include <cstdlib>
#include <cstring>

namespace eaq::kernels::cuda {

namespace {

using namespace detail;

constexpr int kWarps = kDecodeSplitKeys / 32;
constexpr int kMaxHeadDim = 256;

// The keys of split `split` at the current position: [first, end) of n_splits; active == false
// for a block past the position (it exits).
struct DecodeSplit {
  int position, first, end, n_splits;
  bool active;
};

__device__ __forceinline__ DecodeSplit decode_split(const AttentionCudaParams& p, const std::int32_t* position_ptr,
                                                    int split, int split_keys) {
  DecodeSplit s;
  s.position = *position_ptr;
  const int start = window_start(s.position, p.sliding_window);
  s.first = start + split * split_keys;
  s.active = s.first <= s.position;
  s.n_splits = (s.position - start) / split_keys + 1;
  s.end = min(s.first + split_keys, s.position + 1);
  return s;
}

// One block per (head, split). With kRope the block first makes its own query head from the QKV
// projection (qkv_head.cuh), and the block of the last split — the one holding the new token's
// position — also makes that token's key and value and writes them into the cache before reading
// it (every head of a kv group writes the same values). The split results then combine in the
// block that finishes last for its head (a counter per head, reset by that block), so no merge
// kernel runs; a head with a single split writes its output directly.
template <int kDims, int kHeadDim, bool kRope>
__global__ void attention_decode_kernel(AttentionCudaParams p, RopeKvParams r, const float* q,
                                        const std::int32_t* position_ptr, int max_splits, float* partial,
                                        unsigned* split_counters, float* out) {
  __shared__ float q_shared[kMaxHeadDim];
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  __shared__ float warp_acc[kWarps][kMaxHeadDim];
  __shared__ bool merges;
  pdl_launch_dependents();
  pdl_wait();
  const int head = blockIdx.x, split = blockIdx.y;
  const DecodeSplit sp = decode_split(p, position_ptr, split, kDecodeSplitKeys);
  if (!sp.active) return;
  const int first = sp.first, end = sp.end, n_splits = sp.n_splits;

  const int hd = p.head_dim;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if constexpr (kRope) {
    // warp_acc rows 1 and 2 are free until the tile below: the new key and value.
    prepare_decode_qkv(p, r, head, kv_head, sp.position, split == sp.n_splits - 1, q_shared, warp_acc[1],
                       warp_acc[2]);
  } else {
    for (int i = threadIdx.x; i < hd; i += blockDim.x) q_shared[i] = q[static_cast<long long>(head) * hd + i] * p.scale;
  }
  __syncthreads();  // the query, and the new key and value in the cache, are visible to the block
  const long long stride = static_cast<long long>(p.n_kv_heads) * hd;
  const __half* k_rows = static_cast<const __half*>(p.k_cache) + static_cast<long long>(kv_head) * hd;
  const __half* v_rows = static_cast<const __half*>(p.v_cache) + static_cast<long long>(kv_head) * hd;
  OnlineSoftmaxState<kDims> st;
  const int tile_first = first + warp * 32;
  if (tile_first < end) attend_tile<kDims, kHeadDim>(q_shared, k_rows, v_rows, stride, hd, tile_first, min(tile_first + 32, end),
                                           p.logit_softcap, st);
  if (lane == 0) {
    warp_m[warp] = st.m;
    warp_l[warp] = st.l;
  }
#pragma unroll
  for (int i = 0; i < kDims; ++i) {
    const int d = lane * kDims + i;
    if (d < hd) warp_acc[warp][d] = st.acc[i];
  }
  __syncthreads();
  finish_decode_split(kWarps, warp_m, warp_l, &warp_acc[0][0], kMaxHeadDim, hd, head, split, n_splits, max_splits,
                      partial, split_counters, out, &merges);
}


// The kernel for head_dim 64, 128 and 256 (its loads, scoring and query: attention_decode_vec.cuh).
template <int kHeadDim, bool kRope, int kSplitKeys>
__global__ void __launch_bounds__(32 * kVecWarps)
    attention_decode_vec_kernel(AttentionCudaParams p, RopeKvParams r, const float* q,
                                const std::int32_t* position_ptr, int max_splits, float* partial,
                                unsigned* split_counters, float* out, bool early) {
  constexpr int kVecKeysPerWarp = kSplitKeys / kVecWarps;
  constexpr int kLanesPerKey = kHeadDim / 8;
  constexpr int kKeysPerLoad = 32 / kLanesPerKey;
  constexpr int kLoads = kVecKeysPerWarp / kKeysPerLoad;
  static_assert(kLoads >= 1 && kVecKeysPerWarp % kKeysPerLoad == 0, "head_dim 64, 128 or 256");
  __shared__ __align__(16) float q_shared[kHeadDim];
  __shared__ __align__(16) float new_kv[2][kHeadDim];
  __shared__ float warp_m[kVecWarps], warp_l[kVecWarps];
  __shared__ float warp_acc[kVecWarps][kHeadDim];
  __shared__ bool merges;
  pdl_launch_dependents();
  early = kRope && early;
  if (!early) pdl_wait();
  const int head = blockIdx.x, split = blockIdx.y;
  const DecodeSplit sp = decode_split(p, position_ptr, split, kSplitKeys);
  if (!sp.active) {
    if (early) pdl_wait();
    return;
  }
  const int position = sp.position, first = sp.first, end = sp.end, n_splits = sp.n_splits;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const int warp = threadIdx.x >> 5, part = (threadIdx.x & 31) % kLanesPerKey;
  const long long stride = static_cast<long long>(p.n_kv_heads) * kHeadDim;
  const __half* k_base = vec_row_base<kHeadDim>(p.k_cache, kv_head);
  const __half* v_base = vec_row_base<kHeadDim>(p.v_cache, kv_head);
  const int warp_first = first + warp * kVecKeysPerWarp;
  // With kRope the new token's row is written by this grid: it is not read from the cache.
  const int load_end = kRope ? min(end, position) : end;
  uint4 k_raw[kLoads], v_raw[kLoads];
  load_vec_rows<kHeadDim, kLoads>(k_base, v_base, stride, warp_first, load_end, k_raw, v_raw);
  if (early) pdl_wait();  // the query, and the split workspace, are the previous kernels' output
  prepare_vec_query<kHeadDim, kRope>(p, r, q, head, kv_head, position, split == n_splits - 1, q_shared, new_kv);
  float qv[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) qv[j] = q_shared[part * 8 + j];
  VecAttentionState st;
  attend_vec_rows<kHeadDim, kLoads, kRope>(k_raw, v_raw, qv, warp_first, end, position, new_kv[0], new_kv[1],
                                           p.logit_softcap, st);
  store_vec_state<kHeadDim>(st, warp_m, warp_l, &warp_acc[0][0]);
  __syncthreads();
  finish_decode_split(kVecWarps, warp_m, warp_l, &warp_acc[0][0], kHeadDim, kHeadDim, head, split, n_splits,
                      max_splits, partial, split_counters, out, &merges);
}


}  // namespace

int attention_lane_dims(int head_dim) {
  for (int dims : {1, 2, 4, 8}) {
    if (32 * dims >= head_dim && head_dim % dims == 0) return dims;
  }
  fail("head_dim {} is not supported by the CUDA attention kernels (even, at most 256)", head_dim);
}

namespace {

// Splits of `split_keys` over the cache a workspace of `capacity` minimum-size splits covers.
int grid_splits(int capacity, int split_keys) {
  return static_cast<int>((static_cast<long long>(capacity) * kDecodeMinSplitKeys + split_keys - 1) / split_keys);
}

int default_vec_split_keys() {
  static const int keys = [] {
    const char* v = std::getenv("EAQ_CUDA_DECODE_SPLIT_KEYS");
    if (v == nullptr || *v == '\0') return kDecodeVecSplitKeys;
    const int k = std::atoi(v);
    EAQ_CHECK(k == 32 || k == 64 || k == 128, "EAQ_CUDA_DECODE_SPLIT_KEYS={} is not 32, 64 or 128", v);
    return k;
  }();
  return keys;
}

// The cluster kernel's merge (attention_decode_cluster.cu, ClusterSync): each block's share pushed
// to the others by st.async against an mbarrier, no barrier after the start (the default, measured
// faster); with EAQ_CUDA_CLUSTER_SYNC=light the two lighter cluster barriers, with =full cg's
// cluster.sync() twice (A/B). Read once.
ClusterSync cluster_sync() {
  static const ClusterSync sync = [] {
    const char* v = std::getenv("EAQ_CUDA_CLUSTER_SYNC");
    if (v == nullptr || std::strcmp(v, "push") == 0) return ClusterSync::kPush;
    if (std::strcmp(v, "light") == 0) return ClusterSync::kLight;
    if (std::strcmp(v, "full") == 0) return ClusterSync::kFull;
    fail("EAQ_CUDA_CLUSTER_SYNC='{}' is not a merge choice: give push (the default), light or full, or unset it", v);
  }();
  return sync;
}

bool early_kv_loads() {
  static const bool on = [] {
    const char* v = std::getenv("EAQ_CUDA_ATTENTION_EARLY_LOADS");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return on;
}

template <int kHeadDim, int kSplitKeys>
void launch_vec(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q, const std::int32_t* pos,
                int capacity, float* partial, unsigned* split_counters, float* out, cudaStream_t stream) {
  const int splits = grid_splits(capacity, kSplitKeys);
  const dim3 grid(params.n_heads, splits);
  const RopeKvParams r = rope ? *rope : RopeKvParams{};
  if (rope) {
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_vec_kernel<kHeadDim, true, kSplitKeys>, grid, 32 * kVecWarps, 0, stream,
                              params, r, q, pos, splits, partial, split_counters, out, early_kv_loads()));
  } else {
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_vec_kernel<kHeadDim, false, kSplitKeys>, grid, 32 * kVecWarps, 0,
                              stream, params, r, q, pos, splits, partial, split_counters, out, false));
  }
}

// The cluster kernel where the GPU has clusters (compute capability 9.0+), the head size suits it
// and its blocks (kClusterBlocks a head) fit one per SM; else the split-K kernels. Measured on an
// H100 (132 SMs; bench_engine_cuda f16 decode, same call, docs/cuda.md): 16 heads (1.3B shape)
// 722.4 tok/s against 712.0 split-K, 12 heads (1.5B) 626.2 against 616.5, but 32 heads (7B)
// 190.9 against 193.6. EAQ_CUDA_DECODE_ATTENTION=cluster / splitk forces one (A/B).
bool cluster_kernel_runs(const AttentionCudaParams& params) {
  const int hd = params.head_dim;
  return (hd == 64 || hd == 128 || hd == 256) && compute_capability_major() >= 9;
}

// EAQ_CUDA_DECODE_ATTENTION: 0 by the rule (unset), 1 cluster, 2 split-K (splitk, lanes).
int forced_decode_attention() {
  static const int forced = [] {
    const char* v = std::getenv("EAQ_CUDA_DECODE_ATTENTION");
    if (v == nullptr) return 0;
    if (std::strcmp(v, "cluster") == 0) return 1;
    if (std::strcmp(v, "splitk") == 0 || std::strcmp(v, "lanes") == 0) return 2;
    fail("EAQ_CUDA_DECODE_ATTENTION='{}' is not a decode attention kernel: give cluster, splitk or lanes, "
         "or unset it (the measured rule)",
         v);
  }();
  return forced;
}

bool use_cluster_kernel(const AttentionCudaParams& params) {
  const int forced = forced_decode_attention();
  if (forced == 2 || !cluster_kernel_runs(params)) return false;
  if (forced == 1) return true;
  return static_cast<long long>(params.n_heads) * kClusterBlocks <= multiprocessor_count();
}

template <int kHeadDim>
void launch_vec_keys(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                     const std::int32_t* pos, int capacity, float* partial, unsigned* split_counters, float* out,
                     cudaStream_t stream, int split_keys) {
  if (split_keys == 32) {
    launch_vec<kHeadDim, 32>(params, rope, q, pos, capacity, partial, split_counters, out, stream);
  } else if (split_keys == 64) {
    launch_vec<kHeadDim, 64>(params, rope, q, pos, capacity, partial, split_counters, out, stream);
  } else {
    launch_vec<kHeadDim, 128>(params, rope, q, pos, capacity, partial, split_counters, out, stream);
  }
}

}  // namespace

void attention_decode(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                      const std::int32_t* position, int max_splits, float* partial, unsigned* split_counters,
                      float* out, cudaStream_t stream, int split_keys) {
  EAQ_CHECK((rope == nullptr) != (q == nullptr), "attention_decode takes either the QKV projection or a query");
  EAQ_CHECK(params.head_dim <= kMaxHeadDim, "head_dim {} unsupported on CUDA", params.head_dim);
  EAQ_CHECK(split_keys == 0 || split_keys == kDecodeCluster || split_keys == 32 || split_keys == 64 || split_keys == 128,
            "attention_decode split_keys {} is not 0, kDecodeCluster, 32, 64 or 128", split_keys);
  const bool cluster = split_keys == kDecodeCluster ? cluster_kernel_runs(params) : split_keys == 0 && use_cluster_kernel(params);
  if (split_keys == kDecodeCluster) split_keys = 0;
  if (cluster) {
    const std::int32_t* pos = rope ? rope->positions : position;
    launch_attention_decode_cluster(params, rope, q, pos, out, rope != nullptr && early_kv_loads(), cluster_sync(),
                                    stream);
    EAQ_CUDA_CHECK(cudaGetLastError());
    return;
  }
  if (split_keys == 0) split_keys = default_vec_split_keys();
  // max_splits is the workspace's capacity in kDecodeMinSplitKeys splits; each kernel's grid
  // covers the same positions with its own split size (and indexes the workspace by it).
  const int lane_splits = grid_splits(max_splits, kDecodeSplitKeys);
  const dim3 grid(params.n_heads, lane_splits);
  const int hd = params.head_dim;
  const RopeKvParams r = rope ? *rope : RopeKvParams{};
  const std::int32_t* pos = rope ? rope->positions : position;
#define EAQ_DECODE_LAUNCH(D, HD)                                                                                   \
  if (rope) {                                                                                                      \
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_kernel<D, HD, true>, grid, kDecodeSplitKeys, 0, stream, params, r, q, \
                              pos, lane_splits, partial, split_counters, out));                                    \
  } else {                                                                                                         \
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_kernel<D, HD, false>, grid, kDecodeSplitKeys, 0, stream, params, r, \
                              q, pos, lane_splits, partial, split_counters, out));                                 \
  }
  static const bool lane_per_key = [] {
    const char* v = std::getenv("EAQ_CUDA_DECODE_ATTENTION");
    return v != nullptr && std::strcmp(v, "lanes") == 0;
  }();
  if (hd == 128 && !lane_per_key) {
    launch_vec_keys<128>(params, rope, q, pos, max_splits, partial, split_counters, out, stream, split_keys);
  } else if (hd == 64 && !lane_per_key) {
    launch_vec_keys<64>(params, rope, q, pos, max_splits, partial, split_counters, out, stream, split_keys);
  } else if (hd == 256 && !lane_per_key) {
    launch_vec_keys<256>(params, rope, q, pos, max_splits, partial, split_counters, out, stream, split_keys);
  } else if (hd == 128) {
    EAQ_DECODE_LAUNCH(4, 128);
  } else if (hd == 64) {
    EAQ_DECODE_LAUNCH(2, 64);
  } else if (hd == 256) {
    EAQ_DECODE_LAUNCH(8, 256);
  } else {
    switch (attention_lane_dims(hd)) {
      case 1: EAQ_DECODE_LAUNCH(1, 0); break;
      case 2: EAQ_DECODE_LAUNCH(2, 0); break;
      case 4: EAQ_DECODE_LAUNCH(4, 0); break;
      default: EAQ_DECODE_LAUNCH(8, 0); break;
    }
  }
#undef EAQ_DECODE_LAUNCH
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
