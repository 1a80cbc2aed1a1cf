// The inner step both attention kernels share: one warp, one query, a tile of up to 32 cached
// keys (lane j scores key j), online-softmax update of the running max, sum and output. Each
// lane owns output dims [lane * kDims, lane * kDims + kDims) of the head.
#pragma once

#include <cuda_fp16.h>

#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

template <int kDims>
struct OnlineSoftmaxState {
  float m = -INFINITY;  // running max of the scores seen
  float l = 0.0f;       // running sum of exp(score - m)
  float acc[kDims] = {};
};

// q: scaled query in shared memory (f32, head_dim). k_rows / v_rows: the cache of this kv head
// (row stride `stride` halves). Keys [first, end) of this tile (end - first <= 32).
// kHeadDim: the head size when known at compile time (64, 128, 256: loops unroll, so a lane's
// loads are all in flight at once — a runtime-bounded loop waits on each load in turn), 0 = use
// head_dim.
template <int kDims, int kHeadDim = 0>
__device__ __forceinline__ void attend_tile(const float* q, const __half* k_rows, const __half* v_rows,
                                            long long stride, int runtime_head_dim, int first, int end, float softcap,
                                            OnlineSoftmaxState<kDims>& st) {
  const int head_dim = kHeadDim > 0 ? kHeadDim : runtime_head_dim;
  const int lane = threadIdx.x & 31;
  const int key = first + lane;
  float s = -INFINITY;
  if (key < end) {
    const __half* k = k_rows + key * stride;
    float dot = 0.0f;
    if ((head_dim & 7) == 0) {
#pragma unroll
      for (int d = 0; d < head_dim; d += 8) {
        const uint4 raw = *reinterpret_cast<const uint4*>(k + d);
        const __half2* h2 = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 f = __half22float2(h2[i]);
          dot += q[d + 2 * i] * f.x + q[d + 2 * i + 1] * f.y;
        }
      }
    } else {
      for (int d = 0; d < head_dim; d += 2) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2*>(k + d));
        dot += q[d] * f.x + q[d + 1] * f.y;
      }
    }
    s = softcap > 0.0f ? softcap * tanhf(dot / softcap) : dot;
  }
  const float tile_max = warp_max(s);
  if (tile_max == -INFINITY) return;  // no visible key in this tile
  const float m_new = fmaxf(st.m, tile_max);
  const float correction = st.m == -INFINITY ? 0.0f : __expf(st.m - m_new);
  const float p = key < end ? __expf(s - m_new) : 0.0f;
  st.l = st.l * correction + warp_sum(p);
  st.m = m_new;
#pragma unroll
  for (int i = 0; i < kDims; ++i) st.acc[i] *= correction;
  const int d0 = lane * kDims;
  const int n = end - first;
#pragma unroll 8
  for (int j = 0; j < n; ++j) {
    const float pj = __shfl_sync(0xffffffffu, p, j);
    if (d0 < head_dim) {
      const __half* v = v_rows + (first + j) * stride + d0;
      if constexpr (kDims % 2 == 0) {
#pragma unroll
        for (int i = 0; i < kDims; i += 2) {
          const float2 f = __half22float2(*reinterpret_cast<const __half2*>(v + i));
          st.acc[i] += pj * f.x;
          st.acc[i + 1] += pj * f.y;
        }
      } else {
#pragma unroll
        for (int i = 0; i < kDims; ++i) {
          if (d0 + i < head_dim) st.acc[i] += pj * __half2float(v[i]);
        }
      }
    }
  }
}

}  // namespace eaq::kernels::cuda
