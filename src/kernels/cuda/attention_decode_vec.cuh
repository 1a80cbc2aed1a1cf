// The pieces of decode attention that the 16-byte-load split-K kernel (attention_decode.cu) and
// the cluster kernel (attention_decode_cluster.cu) share: the window's first key, the query (and,
// on the rope path, the new token's key and value) made from the QKV projection, the K/V row loads,
// the scoring into a running softmax and the warp's state into shared memory; and the cluster
// kernel's launcher, which attention_decode() calls. Included by those two files only.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/qkv_head.cuh"

namespace eaq::kernels::cuda::detail {

__device__ __forceinline__ int window_start(int position, int window) {
  return window > 0 ? max(0, position - window + 1) : 0;
}

// The new token's key (warp 1) or value (warp 2) from new_k / new_v into the cache as f16.
__device__ __forceinline__ void store_new_kv(const RopeKvParams& r, int kv_head, int position, int head_dim,
                                             const float* new_k, const float* new_v) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (warp != 1 && warp != 2) return;
  const float* buf = warp == 1 ? new_k : new_v;
  __half* cache = static_cast<__half*>(warp == 1 ? r.k_cache : r.v_cache) +
                  (static_cast<long long>(position) * r.n_kv_heads + kv_head) * head_dim;
  for (int i = lane; i < head_dim; i += 32) cache[i] = __float2half(buf[i]);
}

// With the QKV projection (rope path): warp 0 makes the block's query head (scaled) in q_out; in
// the block whose keys hold the new token (holds_new) warps 1 and 2 make its key and value in
// new_k / new_v and, with store_kv, write them into the cache as f16 (every head of a kv group
// writes the same values; without store_kv the caller writes them later, store_new_kv).
__device__ __forceinline__ void prepare_decode_qkv(const AttentionCudaParams& p, const RopeKvParams& r, int head,
                                                   int kv_head, int position, bool holds_new, float* q_out,
                                                   float* new_k, float* new_v, bool store_kv = true) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int hd = p.head_dim;
  if (warp == 0) {
    prepare_qkv_head(r, 0, head, position, q_out);
    for (int i = lane; i < hd; i += 32) q_out[i] *= p.scale;
  } else if (warp <= 2 && holds_new) {
    float* buf = warp == 1 ? new_k : new_v;
    prepare_qkv_head(r, 0, r.n_heads + (warp - 1) * r.n_kv_heads + kv_head, position, buf);
    if (store_kv) store_new_kv(r, kv_head, position, hd, new_k, new_v);
  }
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
                                                  float* q_shared, float (*new_kv)[kHeadDim], bool store_kv = true) {
  if constexpr (kRope) {
    prepare_decode_qkv(p, r, head, kv_head, position, holds_new, q_shared, new_kv[0], new_kv[1], store_kv);
  } else {
    for (int i = threadIdx.x; i < kHeadDim; i += blockDim.x) q_shared[i] = q[static_cast<long long>(head) * kHeadDim + i] * p.scale;
  }
  __syncthreads();
}

// Blocks of a head in the cluster kernel (a thread block cluster; attention_decode_cluster.cu).
inline constexpr int kClusterBlocks = 8;

// How the cluster kernel's blocks merge (attention_decode_cluster.cu says why each): cg's
// cluster.sync() before and after reading the other blocks' shares (kFull), lighter barriers
// (kLight), or each block pushing every other block its share by st.async, counted on the
// receiver's mbarrier (kPush, the default).
enum class ClusterSync { kFull, kLight, kPush };

// The cluster kernel for head_dim 64, 128 or 256 on sm_90+: with rope, the query (and the new
// token's key and value) made from the QKV projection, and its first K/V rows requested before the
// PDL wait when `early`; else q. Defined in attention_decode_cluster.cu. No sync.
void launch_attention_decode_cluster(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                                     const std::int32_t* pos, float* out, bool early, ClusterSync sync,
                                     cudaStream_t stream);

}  // namespace eaq::kernels::cuda::detail
