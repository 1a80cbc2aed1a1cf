// Decode attention for one query token, three kernels:
// - attention_decode_cluster_kernel (sm_90, head_dim 64/128/256): the 8 blocks of a head form a
//   thread block cluster, each takes an eighth of the keys and they merge through distributed
//   shared memory; used where 8 blocks a head fit one per SM (see use_cluster_kernel);
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
#include "kernels/cuda/attention_split_merge.cuh"
#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/qkv_head.cuh"

#include <cooperative_groups.h>

#include <cstdlib>
#include <cstring>

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarps = kDecodeSplitKeys / 32;
constexpr int kMaxHeadDim = 256;

__device__ __forceinline__ int window_start(int position, int window) {
  return window > 0 ? max(0, position - window + 1) : 0;
}

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

// With the QKV projection (rope path): warp 0 makes the block's query head (scaled) in q_out; in
// the block whose keys hold the new token (holds_new) warps 1 and 2 make its key and value in
// new_k / new_v and write them into the cache as f16 (every head of a kv group writes the same values).
__device__ __forceinline__ void prepare_decode_qkv(const AttentionCudaParams& p, const RopeKvParams& r, int head,
                                                   int kv_head, int position, bool holds_new, float* q_out,
                                                   float* new_k, float* new_v) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int hd = p.head_dim;
  if (warp == 0) {
    prepare_qkv_head(r, 0, head, position, q_out);
    for (int i = lane; i < hd; i += 32) q_out[i] *= p.scale;
  } else if (warp <= 2 && holds_new) {
    float* buf = warp == 1 ? new_k : new_v;
    prepare_qkv_head(r, 0, r.n_heads + (warp - 1) * r.n_kv_heads + kv_head, position, buf);
    __half* cache = static_cast<__half*>(warp == 1 ? r.k_cache : r.v_cache) +
                    (static_cast<long long>(position) * r.n_kv_heads + kv_head) * hd;
    for (int i = lane; i < hd; i += 32) cache[i] = __float2half(buf[i]);
  }
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


// The kernel for head_dim 64, 128 and 256: every load is 16 bytes (8 halves), kHeadDim / 8 lanes
// read one key's row, so a warp reads 256 / kHeadDim rows a load and kSplitKeys / 8 keys in
// (kSplitKeys / 8) * kHeadDim / 256 loads a lane for K and as many for V, all issued at once, before the block makes its query (with
// kRope) — one DRAM round trip a step instead of one for K and a chain for V. The new token's row
// (kRope) is taken from shared memory, rounded to f16 as the cache holds it. Eight warps,
// kSplitKeys (32, 64 or 128) keys a block: smaller splits spread a short cache over more SMs.
constexpr int kVecWarps = 8;

__device__ __forceinline__ uint4 pack_half8(const float* v) {
  uint4 raw;
  __half2* h2 = reinterpret_cast<__half2*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) h2[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
  return raw;
}

// A warp's running softmax over the keys it has scored: m (the same in every lane), and this
// lane's share of the sum l and of output dims part * 8 .. part * 8 + 7 (its key rows' share:
// reduce_vec_state sums them over the warp's rows).
struct VecAttentionState {
  float m = -INFINITY, l = 0.0f, acc[8] = {};
};

// kLoads rows of K and V a lane (keys warp_first + i * kKeysPerLoad + sub), 16 bytes each, all
// requested at once; zeros at and past load_end.
template <int kHeadDim, int kLoads>
__device__ __forceinline__ void load_vec_rows(const __half* k_base, const __half* v_base, long long stride,
                                              int warp_first, int load_end, uint4* k_raw, uint4* v_raw) {
  constexpr int kKeysPerLoad = 32 / (kHeadDim / 8);
  const int sub = (threadIdx.x & 31) / (kHeadDim / 8);
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    const int key = warp_first + i * kKeysPerLoad + sub;
    if (key < load_end) {
      k_raw[i] = *reinterpret_cast<const uint4*>(k_base + key * stride);
      v_raw[i] = *reinterpret_cast<const uint4*>(v_base + key * stride);
    } else {
      k_raw[i] = make_uint4(0, 0, 0, 0);
      v_raw[i] = make_uint4(0, 0, 0, 0);
    }
  }
}

// Scores the loaded rows (keys before `end` visible; with kRope the row of `position` replaced by
// the new token's, new_k / new_v in shared memory) against the lane's query dims qv and folds
// them into the running state.
template <int kHeadDim, int kLoads, bool kRope>
__device__ __forceinline__ void attend_vec_rows(uint4* k_raw, uint4* v_raw, const float* qv, int warp_first, int end,
                                                int position, const float* new_k, const float* new_v,
                                                float softcap, VecAttentionState& st) {
  constexpr int kLanesPerKey = kHeadDim / 8;
  constexpr int kKeysPerLoad = 32 / kLanesPerKey;
  const int lane = threadIdx.x & 31, sub = lane / kLanesPerKey, part = lane % kLanesPerKey;
  if constexpr (kRope) {
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      const int key = warp_first + i * kKeysPerLoad + sub;
      if (key == position && key < end) {
        k_raw[i] = pack_half8(new_k + part * 8);
        v_raw[i] = pack_half8(new_v + part * 8);
      }
    }
  }
  float s[kLoads];
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    const __half2* h2 = reinterpret_cast<const __half2*>(&k_raw[i]);
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __half22float2(h2[j]);
      dot += qv[2 * j] * f.x + qv[2 * j + 1] * f.y;
    }
    s[i] = dot;
  }
#pragma unroll
  for (int offset = kLanesPerKey / 2; offset > 0; offset >>= 1) {
#pragma unroll
    for (int i = 0; i < kLoads; ++i) s[i] += __shfl_xor_sync(0xffffffffu, s[i], offset);
  }
  float m = -INFINITY;
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    const bool visible = warp_first + i * kKeysPerLoad + sub < end;
    s[i] = !visible ? -INFINITY : (softcap > 0.0f ? softcap * tanhf(s[i] / softcap) : s[i]);
    m = fmaxf(m, s[i]);
  }
#pragma unroll
  for (int offset = kLanesPerKey; offset < 32; offset <<= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
  if (m == -INFINITY) return;
  const float new_m = fmaxf(st.m, m);
  const float carry = st.m == -INFINITY ? 0.0f : __expf(st.m - new_m);
  st.l *= carry;
#pragma unroll
  for (int j = 0; j < 8; ++j) st.acc[j] *= carry;
  st.m = new_m;
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    const float pr = s[i] == -INFINITY ? 0.0f : __expf(s[i] - new_m);
    st.l += pr;
    const __half2* h2 = reinterpret_cast<const __half2*>(&v_raw[i]);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __half22float2(h2[j]);
      st.acc[2 * j] += pr * f.x;
      st.acc[2 * j + 1] += pr * f.y;
    }
  }
}

// The warp's (m, l, output) into warp_m / warp_l / warp_acc row `warp` (shared memory).
template <int kHeadDim>
__device__ __forceinline__ void store_vec_state(VecAttentionState& st, float* warp_m, float* warp_l, float* warp_acc) {
  constexpr int kLanesPerKey = kHeadDim / 8;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int sub = lane / kLanesPerKey, part = lane % kLanesPerKey;
#pragma unroll
  for (int offset = kLanesPerKey; offset < 32; offset <<= 1) {
    st.l += __shfl_xor_sync(0xffffffffu, st.l, offset);
#pragma unroll
    for (int j = 0; j < 8; ++j) st.acc[j] += __shfl_xor_sync(0xffffffffu, st.acc[j], offset);
  }
  if (lane == 0) {
    warp_m[warp] = st.m;
    warp_l[warp] = st.l;
  }
  if (sub == 0) {
#pragma unroll
    for (int j = 0; j < 8; ++j) warp_acc[warp * kHeadDim + part * 8 + j] = st.acc[j];
  }
}

// The lane's first K and V element of key 0 for kv_head (row stride n_kv_heads * kHeadDim).
template <int kHeadDim>
__device__ __forceinline__ const __half* vec_row_base(const void* cache, int kv_head) {
  const int part = (threadIdx.x & 31) % (kHeadDim / 8);
  return static_cast<const __half*>(cache) + static_cast<long long>(kv_head) * kHeadDim + part * 8;
}

// The block's scaled query head in q_shared: made from the QKV projection (kRope; the block that
// holds the new token also makes its key and value, into new_kv and the cache), or copied from q.
// Followed by a __syncthreads: q_shared (and new_kv) are the block's on return.
template <int kHeadDim, bool kRope>
__device__ __forceinline__ void prepare_vec_query(const AttentionCudaParams& p, const RopeKvParams& r, const float* q,
                                                  int head, int kv_head, int position, bool holds_new,
                                                  float* q_shared, float (*new_kv)[kHeadDim]) {
  if constexpr (kRope) {
    prepare_decode_qkv(p, r, head, kv_head, position, holds_new, q_shared, new_kv[0], new_kv[1]);
  } else {
    for (int i = threadIdx.x; i < kHeadDim; i += blockDim.x) q_shared[i] = q[static_cast<long long>(head) * kHeadDim + i] * p.scale;
  }
  __syncthreads();
}

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

// Cluster decode attention (sm_90): the kClusterBlocks blocks of a head form a thread block
// cluster. Block r takes the r-th of kClusterBlocks equal ranges of the keys up to the position,
// walks it in chunks of kVecWarps * 16 keys (the rows of a chunk all requested at once), and the
// blocks merge their (max, sum, output) triples through distributed shared memory, each block
// writing 1 / kClusterBlocks of the head's output dims: no split workspace, no counter, no second
// pass through L2. Measured on an H100 (bench_attention_decode, 576 positions): 6.60 us against
// 7.18 split-K on the 1.3B heads, 10.81 against 9.58 on the 7B heads (docs/cuda.md) — the split-K
// merge was not most of that kernel's time.
constexpr int kClusterBlocks = 8;

template <int kHeadDim, bool kRope>
__global__ void __launch_bounds__(32 * kVecWarps)
    attention_decode_cluster_kernel(AttentionCudaParams p, RopeKvParams r, const float* q,
                                    const std::int32_t* position_ptr, float* out, bool early) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  namespace cg = cooperative_groups;
  constexpr int kChunkKeysPerWarp = 16;
  constexpr int kLanesPerKey = kHeadDim / 8;
  constexpr int kKeysPerLoad = 32 / kLanesPerKey;
  constexpr int kLoads = kChunkKeysPerWarp / kKeysPerLoad;
  constexpr int kChunkKeys = kChunkKeysPerWarp * kVecWarps;
  constexpr int kDimsPerBlock = kHeadDim / kClusterBlocks;
  __shared__ __align__(16) float q_shared[kHeadDim];
  __shared__ __align__(16) float new_kv[2][kHeadDim];
  __shared__ float warp_m[kVecWarps], warp_l[kVecWarps];
  __shared__ float warp_acc[kVecWarps][kHeadDim];
  __shared__ float block_ml[2];  // the block's (max, sum), read by the cluster
  __shared__ float block_acc[kHeadDim];
  cg::cluster_group cluster = cg::this_cluster();
  const int rank = static_cast<int>(cluster.block_rank());
  const int head = blockIdx.y;
  pdl_launch_dependents();
  early = kRope && early;
  if (!early) pdl_wait();
  const int position = *position_ptr;
  const int start = window_start(position, p.sliding_window);
  const int per_block = (position - start + kClusterBlocks) / kClusterBlocks;
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
  if (early) pdl_wait();  // the query is the QKV GEMV's output
  prepare_vec_query<kHeadDim, kRope>(p, r, q, head, kv_head, position, first <= position && position < end, q_shared,
                                     new_kv);
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
  cluster.sync();  // every block's triple is visible to the cluster
  if (threadIdx.x < kDimsPerBlock) {
    const int d = rank * kDimsPerBlock + threadIdx.x;
    float bm[kClusterBlocks], bl[kClusterBlocks], ba[kClusterBlocks];
#pragma unroll
    for (int b = 0; b < kClusterBlocks; ++b) {
      const float* ml = cluster.map_shared_rank(block_ml, b);
      bm[b] = ml[0];
      bl[b] = ml[1];
      ba[b] = cluster.map_shared_rank(block_acc, b)[d];
    }
    float mm = -INFINITY;
#pragma unroll
    for (int b = 0; b < kClusterBlocks; ++b) mm = fmaxf(mm, bm[b]);
    float l = 0.0f, acc = 0.0f;
#pragma unroll
    for (int b = 0; b < kClusterBlocks; ++b) {
      const float w = bm[b] == -INFINITY ? 0.0f : __expf(bm[b] - mm);
      l += w * bl[b];
      acc += w * ba[b];
    }
    out[static_cast<long long>(head) * kHeadDim + d] = acc / l;
  }
  cluster.sync();  // no block leaves while another reads its shared memory
#endif
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

template <int kHeadDim>
void launch_cluster(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                    const std::int32_t* pos, float* out, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(kClusterBlocks, params.n_heads);
  config.blockDim = dim3(32 * kVecWarps);
  config.stream = stream;
  cudaLaunchAttribute attribute[2];
  attribute[0].id = cudaLaunchAttributeClusterDimension;
  attribute[0].val.clusterDim.x = kClusterBlocks;
  attribute[0].val.clusterDim.y = 1;
  attribute[0].val.clusterDim.z = 1;
  attribute[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[1].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  const bool legacy = stream == nullptr || stream == cudaStreamLegacy;  // as launch_pdl
  config.numAttrs = !legacy && pdl_enabled() ? 2 : 1;
  const RopeKvParams r = rope ? *rope : RopeKvParams{};
  if (rope) {
    EAQ_CUDA_CHECK(cudaLaunchKernelEx(&config, attention_decode_cluster_kernel<kHeadDim, true>, params, r, q, pos, out,
                                      early_kv_loads()));
  } else {
    EAQ_CUDA_CHECK(cudaLaunchKernelEx(&config, attention_decode_cluster_kernel<kHeadDim, false>, params, r, q, pos, out,
                                      false));
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

bool use_cluster_kernel(const AttentionCudaParams& params) {
  static const int forced = [] {  // 1 cluster, 2 split-K, 0 by the rule
    const char* v = std::getenv("EAQ_CUDA_DECODE_ATTENTION");
    if (v == nullptr) return 0;
    if (std::strcmp(v, "cluster") == 0) return 1;
    return std::strcmp(v, "splitk") == 0 || std::strcmp(v, "lanes") == 0 ? 2 : 0;
  }();
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
    if (params.head_dim == 128) launch_cluster<128>(params, rope, q, pos, out, stream);
    if (params.head_dim == 64) launch_cluster<64>(params, rope, q, pos, out, stream);
    if (params.head_dim == 256) launch_cluster<256>(params, rope, q, pos, out, stream);
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
