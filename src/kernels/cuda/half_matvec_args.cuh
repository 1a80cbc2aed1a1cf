// What the two dense f16/bf16 decode GEMV kernels share: their arguments, the output store with
// its epilogue (bias, y +=), the unpacking of eight 16-bit weights, and the streaming kernel's
// launcher (half_matvec_stream.cu), which half_matvec() calls where EAQ_CUDA_HALF_MATVEC=stream.
// Included by half_matvec.cu and half_matvec_stream.cu only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda::detail {

struct MatvecArgs {
  const uint16_t* w;
  long long rows, cols, stride;
  const float* x;
  float* y;
  const float* norm_weight;  // nullptr: no input norm
  float norm_offset, norm_eps;
  const float* bias;
  int accumulate;
  // Gated (HalfMatvecFusion::gate): rows [0, gate_rows) are the gate, [gate_rows, 2 gate_rows)
  // the up projection, and y[b][j] = act(gate_j . x) * (up_j . x), gate_rows values a batch row.
  long long gate_rows;
  int gelu_tanh;
};

// Output (b, row): the row's dot product times `scale` (1/rms(x[b]) with the norm, else 1), plus
// the bias value `bias` (a.bias[row], read earlier by the caller) where a.bias is set, plus `prior`
// (the value y held, read earlier) where a.accumulate.
__device__ __forceinline__ void store_matvec_output(const MatvecArgs& a, int b, long long row, float dot, float scale,
                                                    float bias, float prior) {
  float v = dot * scale;
  if (a.bias != nullptr) v += bias;
  if (a.accumulate) v += prior;
  a.y[b * a.rows + row] = v;
}

// The same, reading the bias and y's value now.
__device__ __forceinline__ void store_matvec_output(const MatvecArgs& a, int b, long long row, float dot, float scale) {
  store_matvec_output(a, b, row, dot, scale, a.bias != nullptr ? a.bias[row] : 0.0f,
                      a.accumulate ? a.y[b * a.rows + row] : 0.0f);
}

template <bool kBf16>
__device__ __forceinline__ void unpack8(const uint4& raw, float* f) {
  if constexpr (kBf16) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 v = __bfloat1622float2(h[i]);
      f[2 * i] = v.x;
      f[2 * i + 1] = v.y;
    }
  } else {
    half8_to_float(raw, f);
  }
}

// The streaming schedule (half_matvec_stream.cu): a grid that stays resident, each warp whole
// outputs in turn, its next 4 KiB of weights in flight while it computes the current; batch 1 to
// kHalfMatvecStreamMaxBatch, the plain form, bias, y += and the gated form, no input norm. Rows
// whose length is a multiple of 8 halves, 16-byte aligned (the caller checks). No sync.
inline constexpr int kHalfMatvecStreamMaxBatch = 4;
void launch_half_matvec_stream(const MatvecArgs& a, bool bf16, int batch, cudaStream_t stream);

}  // namespace eaq::kernels::cuda::detail
