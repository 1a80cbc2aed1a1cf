// Split-K flash-decoding for one query token: the cache is cut into splits of kDecodeSplitKeys
// keys, one block per (head, split) scores its keys with four warps (32 keys each), and a merge
// kernel combines the splits' (max, sum, output) triples. The position is read on the device,
// so the launch is the same at every step and a CUDA graph can replay it; blocks past the
// current position exit at once.
#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarps = kDecodeSplitKeys / 32;
constexpr int kMaxHeadDim = 256;

__device__ __forceinline__ int window_start(int position, int window) {
  return window > 0 ? max(0, position - window + 1) : 0;
}

template <int kDims, int kHeadDim>
__global__ void attention_decode_split_kernel(AttentionCudaParams p, const float* q, const std::int32_t* position_ptr,
                                              int max_splits, float* partial) {
  __shared__ float q_shared[kMaxHeadDim];
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  __shared__ float warp_acc[kWarps][kMaxHeadDim];
  pdl_launch_dependents();
  pdl_wait();
  const int head = blockIdx.x, split = blockIdx.y;
  const int position = *position_ptr;
  const int start = window_start(position, p.sliding_window);
  const int first = start + split * kDecodeSplitKeys;
  if (first > position) return;
  const int end = min(first + kDecodeSplitKeys, position + 1);
  const int hd = p.head_dim;
  for (int i = threadIdx.x; i < hd; i += blockDim.x) q_shared[i] = q[static_cast<long long>(head) * hd + i] * p.scale;
  __syncthreads();
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const long long stride = static_cast<long long>(p.n_kv_heads) * hd;
  const __half* k_rows = static_cast<const __half*>(p.k_cache) + static_cast<long long>(kv_head) * hd;
  const __half* v_rows = static_cast<const __half*>(p.v_cache) + static_cast<long long>(kv_head) * hd;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
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
  float* out = partial + (static_cast<long long>(head) * max_splits + split) * (hd + 2);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w][d];
    }
    out[2 + d] = acc;
  }
  if (threadIdx.x == 0) {
    float l = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (warp_m[w] != -INFINITY) l += __expf(warp_m[w] - m) * warp_l[w];
    }
    out[0] = m;
    out[1] = l;
  }
}

__global__ void attention_decode_merge_kernel(AttentionCudaParams p, const std::int32_t* position_ptr, int max_splits,
                                              const float* partial, float* out) {
  pdl_launch_dependents();
  pdl_wait();
  const int head = blockIdx.x, hd = p.head_dim;
  const int position = *position_ptr;
  const int start = window_start(position, p.sliding_window);
  const int n_splits = (position - start) / kDecodeSplitKeys + 1;
  const float* base = partial + static_cast<long long>(head) * max_splits * (hd + 2);
  float m = -INFINITY;
  for (int s = 0; s < n_splits; ++s) m = fmaxf(m, base[s * (hd + 2)]);
  float l = 0.0f;
  for (int s = 0; s < n_splits; ++s) l += __expf(base[s * (hd + 2)] - m) * base[s * (hd + 2) + 1];
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < n_splits; ++s) acc += __expf(base[s * (hd + 2)] - m) * base[s * (hd + 2) + 2 + d];
    out[static_cast<long long>(head) * hd + d] = acc / l;
  }
}

}  // namespace

int attention_lane_dims(int head_dim) {
  for (int dims : {1, 2, 4, 8}) {
    if (32 * dims >= head_dim && head_dim % dims == 0) return dims;
  }
  fail("head_dim {} is not supported by the CUDA attention kernels (even, at most 256)", head_dim);
}

void attention_decode(const AttentionCudaParams& params, const float* q, const std::int32_t* position,
                      int max_splits, float* partial, float* out, cudaStream_t stream) {
  const dim3 grid(params.n_heads, max_splits);
  const int hd = params.head_dim;
#define EAQ_DECODE_LAUNCH(D, HD) \
  EAQ_CUDA_CHECK(launch_pdl(attention_decode_split_kernel<D, HD>, grid, kDecodeSplitKeys, 0, stream, params, q, position, \
                            max_splits, partial))
  if (hd == 128) EAQ_DECODE_LAUNCH(4, 128);
  else if (hd == 64) EAQ_DECODE_LAUNCH(2, 64);
  else if (hd == 256) EAQ_DECODE_LAUNCH(8, 256);
  else {
    switch (attention_lane_dims(hd)) {
      case 1: EAQ_DECODE_LAUNCH(1, 0); break;
      case 2: EAQ_DECODE_LAUNCH(2, 0); break;
      case 4: EAQ_DECODE_LAUNCH(4, 0); break;
      default: EAQ_DECODE_LAUNCH(8, 0); break;
    }
  }
#undef EAQ_DECODE_LAUNCH
  EAQ_CUDA_CHECK(cudaGetLastError());
  EAQ_CUDA_CHECK(launch_pdl(attention_decode_merge_kernel, params.n_heads, 128, 0, stream, params, position, max_splits,
                            partial, out));
}

}  // namespace eaq::kernels::cuda
