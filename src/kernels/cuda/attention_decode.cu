// Split-K flash-decoding for one query token: the cache is cut into splits of kDecodeSplitKeys
// keys, one block per (head, split) scores its keys with four warps (32 keys each), and the
// block that finishes last for its head combines the splits' (max, sum, output) triples. The position is read on the device,
// so the launch is the same at every step and a CUDA graph can replay it; blocks past the
// current position exit at once.
#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"
#include "kernels/cuda/qkv_head.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarps = kDecodeSplitKeys / 32;
constexpr int kMaxHeadDim = 256;

__device__ __forceinline__ int window_start(int position, int window) {
  return window > 0 ? max(0, position - window + 1) : 0;
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
  const int position = *position_ptr;
  const int start = window_start(position, p.sliding_window);
  const int first = start + split * kDecodeSplitKeys;
  if (first > position) return;
  const int n_splits = (position - start) / kDecodeSplitKeys + 1;
  const int end = min(first + kDecodeSplitKeys, position + 1);

  const int hd = p.head_dim;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if constexpr (kRope) {
    if (warp == 0) {
      prepare_qkv_head(r, 0, head, position, q_shared);
      for (int i = lane; i < hd; i += 32) q_shared[i] *= p.scale;
    } else if (warp <= 2 && split == n_splits - 1) {
      // warp_acc rows 1 and 2 are free until the tile below: the new key (warp 1) and value.
      float* buf = warp_acc[warp];
      prepare_qkv_head(r, 0, r.n_heads + (warp - 1) * r.n_kv_heads + kv_head, position, buf);
      __half* cache = static_cast<__half*>(warp == 1 ? r.k_cache : r.v_cache) +
                      (static_cast<long long>(position) * r.n_kv_heads + kv_head) * hd;
      for (int i = lane; i < hd; i += 32) cache[i] = __float2half(buf[i]);
    }
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
  float m = -INFINITY;
  for (int w = 0; w < kWarps; ++w) m = fmaxf(m, warp_m[w]);
  float l = 0.0f;
  for (int w = 0; w < kWarps; ++w) {
    if (warp_m[w] != -INFINITY) l += __expf(warp_m[w] - m) * warp_l[w];
  }
  if (n_splits == 1) {
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
      float acc = 0.0f;
      for (int w = 0; w < kWarps; ++w) {
        if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w][d];
      }
      out[static_cast<long long>(head) * hd + d] = acc / l;
    }
    return;
  }
  float* mine = partial + (static_cast<long long>(head) * max_splits + split) * (hd + 2);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w][d];
    }
    mine[2 + d] = acc;
  }
  if (threadIdx.x == 0) {
    mine[0] = m;
    mine[1] = l;
  }
  __threadfence();  // this split's triple is visible device-wide before it is counted
  __syncthreads();
  if (threadIdx.x == 0) merges = atomicAdd(&split_counters[head], 1u) == static_cast<unsigned>(n_splits - 1);
  __syncthreads();
  if (!merges) return;
  __threadfence();
  // The other splits' triples come from L2 (__ldcg): this SM's L1 may hold older lines of them.
  const float* base = partial + static_cast<long long>(head) * max_splits * (hd + 2);
  float mm = -INFINITY;
  for (int s = 0; s < n_splits; ++s) mm = fmaxf(mm, __ldcg(base + s * (hd + 2)));
  float ll = 0.0f;
  for (int s = 0; s < n_splits; ++s) ll += __expf(__ldcg(base + s * (hd + 2)) - mm) * __ldcg(base + s * (hd + 2) + 1);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < n_splits; ++s) acc += __expf(__ldcg(base + s * (hd + 2)) - mm) * __ldcg(base + s * (hd + 2) + 2 + d);
    out[static_cast<long long>(head) * hd + d] = acc / ll;
  }
  if (threadIdx.x == 0) split_counters[head] = 0;  // ready for the next launch
}

}  // namespace

int attention_lane_dims(int head_dim) {
  for (int dims : {1, 2, 4, 8}) {
    if (32 * dims >= head_dim && head_dim % dims == 0) return dims;
  }
  fail("head_dim {} is not supported by the CUDA attention kernels (even, at most 256)", head_dim);
}

void attention_decode(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                      const std::int32_t* position, int max_splits, float* partial, unsigned* split_counters,
                      float* out, cudaStream_t stream) {
  EAQ_CHECK((rope == nullptr) != (q == nullptr), "attention_decode takes either the QKV projection or a query");
  EAQ_CHECK(params.head_dim <= kMaxHeadDim, "head_dim {} unsupported on CUDA", params.head_dim);
  const dim3 grid(params.n_heads, max_splits);
  const int hd = params.head_dim;
  const RopeKvParams r = rope ? *rope : RopeKvParams{};
  const std::int32_t* pos = rope ? rope->positions : position;
#define EAQ_DECODE_LAUNCH(D, HD)                                                                                   \
  if (rope) {                                                                                               \
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_kernel<D, HD, true>, grid, kDecodeSplitKeys, 0, stream, params, r, q, \
                              pos, max_splits, partial, split_counters, out));                                    \
  } else {                                                                                                         \
    EAQ_CUDA_CHECK(launch_pdl(attention_decode_kernel<D, HD, false>, grid, kDecodeSplitKeys, 0, stream, params, r, \
                              q, pos, max_splits, partial, split_counters, out));                                 \
  }
  if (hd == 128) {
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
