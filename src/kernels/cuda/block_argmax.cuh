// The argmax of a row by one thread block: what the greedy step (argmax.cu) and greedy sampling
// with a repetition penalty (sampling.cu) both pick.
#pragma once

#include <cfloat>

namespace eaq::kernels::cuda::detail {

// The index of the largest of values[0..n) — the lowest index on ties, as the CPU sampler and
// torch.argmax — for a block of kThreads threads (a power of two); valid in thread 0. 0 when no
// value exceeds -FLT_MAX (every entry -inf).
template <int kThreads>
__device__ int block_argmax(const float* values, int n) {
  __shared__ float best_value[kThreads];
  __shared__ int best_index[kThreads];
  float value = -FLT_MAX;
  int index = 0x7fffffff;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float v = values[i];
    if (v > value) {  // a thread visits indices in increasing order: its first maximum is kept
      value = v;
      index = i;
    }
  }
  best_value[threadIdx.x] = value;
  best_index[threadIdx.x] = index;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width >>= 1) {
    if (threadIdx.x < width) {
      const float v = best_value[threadIdx.x + width];
      const int i = best_index[threadIdx.x + width];
      if (v > best_value[threadIdx.x] || (v == best_value[threadIdx.x] && i < best_index[threadIdx.x])) {
        best_value[threadIdx.x] = v;
        best_index[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  return best_index[0] == 0x7fffffff ? 0 : best_index[0];
}

}  // namespace eaq::kernels::cuda::detail
