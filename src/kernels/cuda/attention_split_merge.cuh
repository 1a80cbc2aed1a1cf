// The end of a split-K decode attention block, shared by both decode kernels: the block's warps
// each left a (max, sum, output) triple in shared memory; this combines them into the split's
// triple and, when the head has several splits, merges the splits in the block that finishes
// last for its head (a counter per head, reset by that block), so no merge kernel runs. A head
// with a single split writes its output directly.
#pragma once

#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

// Splits merged through shared memory (a context of up to 1024 * kDecodeSplitKeys positions);
// more take the slower path that reads each split's (max, sum) from L2 again for every output.
inline constexpr int kMergeSharedSplits = 1024;

// warp_m, warp_l: [n_warps]; warp_acc: n_warps rows of acc_stride floats (shared memory, complete
// for the block: call after a __syncthreads). Every thread of the block calls it.
__device__ __forceinline__ void finish_decode_split(int n_warps, const float* warp_m, const float* warp_l,
                                                    const float* warp_acc, int acc_stride, int hd, int head, int split,
                                                    int n_splits, int max_splits, float* partial,
                                                    unsigned* split_counters, float* out, bool* merges) {
  float m = -INFINITY;
  for (int w = 0; w < n_warps; ++w) m = fmaxf(m, warp_m[w]);
  float l = 0.0f;
  for (int w = 0; w < n_warps; ++w) {
    if (warp_m[w] != -INFINITY) l += __expf(warp_m[w] - m) * warp_l[w];
  }
  if (n_splits == 1) {
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
      float acc = 0.0f;
      for (int w = 0; w < n_warps; ++w) {
        if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w * acc_stride + d];
      }
      out[static_cast<long long>(head) * hd + d] = acc / l;
    }
    return;
  }
  float* mine = partial + (static_cast<long long>(head) * max_splits + split) * (hd + 2);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int w = 0; w < n_warps; ++w) {
      if (warp_m[w] != -INFINITY) acc += __expf(warp_m[w] - m) * warp_acc[w * acc_stride + d];
    }
    mine[2 + d] = acc;
  }
  if (threadIdx.x == 0) {
    mine[0] = m;
    mine[1] = l;
  }
  __threadfence();  // this split's triple is visible device-wide before it is counted
  __syncthreads();
  if (threadIdx.x == 0) *merges = atomicAdd(&split_counters[head], 1u) == static_cast<unsigned>(n_splits - 1);
  __syncthreads();
  if (!*merges) return;
  __threadfence();
  // The splits' triples come from L2 (__ldcg): this SM's L1 may hold older lines of them. Every
  // split's (max, sum) is read in one round into shared memory, then the outputs in a second.
  const float* base = partial + static_cast<long long>(head) * max_splits * (hd + 2);
  __shared__ float split_weight[kMergeSharedSplits];
  if (n_splits <= kMergeSharedSplits) {
    for (int s = threadIdx.x; s < n_splits; s += blockDim.x) split_weight[s] = __ldcg(base + s * (hd + 2));
    __syncthreads();
    float mm = -INFINITY;
    for (int s = 0; s < n_splits; ++s) mm = fmaxf(mm, split_weight[s]);
    __syncthreads();  // every thread has read the maxima before they are replaced by weights
    for (int s = threadIdx.x; s < n_splits; s += blockDim.x) split_weight[s] = __expf(split_weight[s] - mm);
    __syncthreads();
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
      float acc = 0.0f, ll = 0.0f;
#pragma unroll 4
      for (int s = 0; s < n_splits; ++s) {
        const float* split = base + s * (hd + 2);
        ll += split_weight[s] * __ldcg(split + 1);
        acc += split_weight[s] * __ldcg(split + 2 + d);
      }
      out[static_cast<long long>(head) * hd + d] = acc / ll;
    }
  } else {
    float mm = -INFINITY;
    for (int s = 0; s < n_splits; ++s) mm = fmaxf(mm, __ldcg(base + s * (hd + 2)));
    float ll = 0.0f;
    for (int s = 0; s < n_splits; ++s) ll += __expf(__ldcg(base + s * (hd + 2)) - mm) * __ldcg(base + s * (hd + 2) + 1);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
      float acc = 0.0f;
      for (int s = 0; s < n_splits; ++s) acc += __expf(__ldcg(base + s * (hd + 2)) - mm) * __ldcg(base + s * (hd + 2) + 2 + d);
      out[static_cast<long long>(head) * hd + d] = acc / ll;
    }
  }
  if (threadIdx.x == 0) split_counters[head] = 0;  // ready for the next launch
}

}  // namespace eaq::kernels::cuda
