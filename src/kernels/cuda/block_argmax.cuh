// The argmax of a row by one thread block: what the greedy step (argmax.cu) and greedy sampling
// with a repetition penalty (sampling.cu) both pick.
#pragma once

#include <cfloat>

namespace eaq::kernels::cuda::detail {

// (value, index) pairs: the larger value, the lower index on ties.
__device__ __forceinline__ void argmax_take(float& value, int& index, float v, int i) {
  if (v > value || (v == value && i < index)) {
    value = v;
    index = i;
  }
}

// The index of the largest of values[0..n) — the lowest index on ties, as the CPU sampler and
// torch.argmax — for a block of kThreads threads (whole warps); valid in every thread. 0 when no
// value exceeds -FLT_MAX (every entry -inf).
// The thread loop keeps eight loads in flight, the warps reduce by shuffles and one warp the
// warps' results: a tree of ten __syncthreads over 1024 slots took most of the greedy step's
// ~5.6 us on the 7B shape (H100 trace, 2026-12-06).
template <int kThreads>
__device__ int block_argmax(const float* values, int n) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 32");
  __shared__ float warp_value[kThreads / 32];
  __shared__ int warp_index[kThreads / 32];
  __shared__ int result;
  float value = -FLT_MAX;
  int index = 0x7fffffff;
#pragma unroll 8
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float v = values[i];
    if (v > value) {  // a thread visits indices in increasing order: its first maximum is kept
      value = v;
      index = i;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    argmax_take(value, index, __shfl_xor_sync(0xffffffffu, value, offset), __shfl_xor_sync(0xffffffffu, index, offset));
  }
  if (lane == 0) {
    warp_value[warp] = value;
    warp_index[warp] = index;
  }
  __syncthreads();
  if (warp == 0) {
    value = lane < kThreads / 32 ? warp_value[lane] : -FLT_MAX;
    index = lane < kThreads / 32 ? warp_index[lane] : 0x7fffffff;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
      argmax_take(value, index, __shfl_xor_sync(0xffffffffu, value, offset), __shfl_xor_sync(0xffffffffu, index, offset));
    }
    if (lane == 0) result = index == 0x7fffffff ? 0 : index;
  }
  __syncthreads();
  return result;
}

}  // namespace eaq::kernels::cuda::detail
