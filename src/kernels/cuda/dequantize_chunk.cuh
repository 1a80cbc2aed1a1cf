// One 16-byte code chunk of a packed GPU weight as f16 values: the body of the prefill's
// dequantization kernel (dequantize_f16.cu), also compiled for the host, where
// gemv_emulation.cu runs it to check it on machines without a GPU. Decodes with the GEMV's own
// per-format functions (gemv_formats.cuh).
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/cuda/gemv_formats.cuh"

namespace eaq::kernels::cuda::detail {

// Chunk c (0 .. n_super * 32) of row `row`: value = decode(code) x group scale (x the row scale
// when apply_row_scale), rounded to f16 once, into dst_row[pos] for the chunk's positions below
// cols (the last super-chunk's padding is skipped). A lane's 4 values go out in one 8-byte store
// when dst_row is 8-byte aligned (quad_aligned: a warp then writes 256 contiguous bytes a store;
// two 4-byte stores 8 bytes apart each covered half of that), else in 4-byte stores when it is
// even-aligned, else one by one.
template <class F>
EAQ_HD void dequantize_chunk(const GemvArgs& a, std::int64_t row, std::int64_t c, bool apply_row_scale,
                             bool even_stride, bool quad_aligned, __half* dst_row) {
  constexpr int kPieces = F::kElems / 4;
  constexpr std::int64_t kSuper = 32 * F::kElems;
  const std::int64_t s = c / 32;
  const int lane = static_cast<int>(c % 32);
  const uint4 q = F::load_codes(a, row, c);
  const float row_scale = apply_row_scale ? F::row_scale(a, row) : 1.0f;
EAQ_UNROLL
  for (int p = 0; p < kPieces; ++p) {
    const std::int64_t pos = s * kSuper + p * 128 + lane * 4;
    if (pos >= a.cols) continue;
    const typename F::Meta m = F::load_meta(a, row, pos);
    const float4 w = F::decode(q, p, m, a.lut);
    float scale = row_scale;
    if constexpr (F::kGroupScale) scale *= F::group_scale(m);
    const float v[4] = {w.x * scale, w.y * scale, w.z * scale, w.w * scale};
    if (pos + 4 <= a.cols && quad_aligned) {
      const __half2 lo = __floats2half2_rn(v[0], v[1]), hi = __floats2half2_rn(v[2], v[3]);
      uint2 both;
      both.x = *reinterpret_cast<const unsigned*>(&lo);
      both.y = *reinterpret_cast<const unsigned*>(&hi);
      *reinterpret_cast<uint2*>(dst_row + pos) = both;
    } else if (pos + 4 <= a.cols && even_stride) {
      *reinterpret_cast<__half2*>(dst_row + pos) = __floats2half2_rn(v[0], v[1]);
      *reinterpret_cast<__half2*>(dst_row + pos + 2) = __floats2half2_rn(v[2], v[3]);
    } else {
      for (int k = 0; k < 4 && pos + k < a.cols; ++k) dst_row[pos + k] = __float2half_rn(v[k]);
    }
  }
}

}  // namespace eaq::kernels::cuda::detail
