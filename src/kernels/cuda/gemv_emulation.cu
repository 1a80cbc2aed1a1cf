// gemv_on_host and dequantize_rows_f16_on_host (kernels/cuda/gemv_emulation.h): the kernels'
// per-lane (per-chunk) code on the CPU.
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/dequantize_chunk.cuh"
#include "kernels/cuda/gemv_emulation.h"
#include "kernels/cuda/gemv_kernel.cuh"

namespace eaq::kernels::cuda {

namespace {

using namespace detail;

template <class F, int B>
void emulate(const GemvArgs& a) {
  constexpr int R = gemv_rows_per_block(B);
  for (std::int64_t row0 = 0; row0 < a.rows; row0 += R) {
    float warp_sums[kGemvWarps][R][B];
    for (int warp = 0; warp < kGemvWarps; ++warp) {
      float lanes[32][R][B];
      for (int lane = 0; lane < 32; ++lane) {
        gemv_lane_partial<F, B, R>(a, row0, lane, a.lut, warp, kGemvWarps, lanes[lane]);
      }
      // __shfl_xor_sync tree: at each step every lane adds the value of lane ^ off.
      for (int off = 16; off > 0; off >>= 1) {
        float next[32][R][B];
        for (int lane = 0; lane < 32; ++lane)
          for (int r = 0; r < R; ++r)
            for (int b = 0; b < B; ++b) next[lane][r][b] = lanes[lane][r][b] + lanes[lane ^ off][r][b];
        std::memcpy(lanes, next, sizeof lanes);
      }
      std::memcpy(warp_sums[warp], lanes[0], sizeof warp_sums[warp]);
    }
    for (int r = 0; r < R && row0 + r < a.rows; ++r) {
      const float rs = F::row_scale(a, row0 + r);
      for (int b = 0; b < B; ++b) {
        float total = 0.0f;
        for (int warp = 0; warp < kGemvWarps; ++warp) total += warp_sums[warp][r][b];
        store_output(a, b, row0 + r, total * rs);
      }
    }
  }
}

template <class F>
void emulate_batch(const GemvArgs& a, int batch) {
  switch (batch) {
    case 1: emulate<F, 1>(a); break;
    case 2: emulate<F, 2>(a); break;
    case 3: emulate<F, 3>(a); break;
    case 4: emulate<F, 4>(a); break;
    case 5: emulate<F, 5>(a); break;
    case 6: emulate<F, 6>(a); break;
    case 7: emulate<F, 7>(a); break;
    default: emulate<F, 8>(a); break;
  }
}

}  // namespace

void gemv_on_host(const PackedGpuWeight& w, const float* x, int batch, float* y, const GemvEpilogue& epilogue) {
  if (batch < 1 || batch > kMaxGemvBatch) {
    fail_streamed("gemv_on_host: batch ", batch, " is outside 1..", kMaxGemvBatch);
  }
  GemvArgs a = make_gemv_args(w.codes.data(), w.code_row_bytes, w.scales.empty() ? nullptr : w.scales.data(),
                              w.scale_row_bytes, w.rows, w.cols, w.cols_padded, gemv_chunk_elems(w.dtype), x, y);
  a.bias = epilogue.bias;
  a.accumulate = epilogue.accumulate ? 1 : 0;
  const bool known = visit_gemv_format(w.dtype, [&](auto format) { emulate_batch<decltype(format)>(a, batch); });
  if (!known) fail_streamed("gemv_on_host: no GPU layout for ", dtype_name(w.dtype), " weights");
}

void dequantize_rows_f16_on_host(const PackedGpuWeight& w, std::int64_t row_begin, std::int64_t n_rows,
                                 std::int64_t stride, bool apply_row_scales, std::uint16_t* out) {
  if (row_begin < 0 || n_rows < 0 || row_begin + n_rows > w.rows || stride < w.cols) {
    fail_streamed("dequantize_rows_f16_on_host: rows [", row_begin, ", ", row_begin + n_rows, ") with row stride ",
                  stride, " do not fit a [", w.rows, "][", w.cols, "] weight");
  }
  const GemvArgs a = make_gemv_args(w.codes.data(), w.code_row_bytes, w.scales.empty() ? nullptr : w.scales.data(),
                                    w.scale_row_bytes, w.rows, w.cols, w.cols_padded, gemv_chunk_elems(w.dtype),
                                    nullptr, nullptr);
  const bool known = visit_gemv_format(w.dtype, [&](auto format) {
    for (std::int64_t r = 0; r < n_rows; ++r) {
      for (std::int64_t c = 0; c < a.n_super * 32; ++c) {
        dequantize_chunk<decltype(format)>(a, row_begin + r, c, apply_row_scales, (stride & 1) == 0,
                                           reinterpret_cast<__half*>(out + r * stride));
      }
    }
  });
  if (!known) fail_streamed("dequantize_rows_f16_on_host: no GPU layout for ", dtype_name(w.dtype), " weights");
}

}  // namespace eaq::kernels::cuda
