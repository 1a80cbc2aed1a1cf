// Shapes and the comparisons shared by the GEMV and dequantization tests (gemv_cuda_test.cpp on a GPU,
// gemv_emulation_test.cpp on the CPU): per dtype, cols a multiple of its block and of 8, chosen to
// leave a partial last kernel step (256/512/1024 weights for 16/8/4-bit codes), and rows that are
// not a multiple of the rows per warp or block.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/ops.h"

namespace eaq::kernels::test {

struct GemvShape {
  std::int64_t rows, cols;
};

inline std::vector<GemvShape> gemv_shapes_for(DType dtype) {
  switch (dtype) {
    case DType::F16:
    case DType::BF16: return {{1, 8}, {7, 264}, {33, 520}, {130, 4104}};
    case DType::I8_CH:
    case DType::F8_E4M3_CH: return {{1, 8}, {5, 520}, {33, 1032}, {67, 2056}};
    case DType::Q8_0: return {{1, 32}, {5, 544}, {33, 1056}};
    // 300: several 128-row clusters. 8320 / 8256 columns: a cluster block's run of 17 tiles, past
    // the tensor-core GEMV's bulk-feed ring (4 stages of 4 tiles), its splits starting mid-group.
    case DType::I4S_G128: return {{1, 128}, {9, 1152}, {67, 2176}, {300, 2176}, {33, 8320}};
    case DType::I4S_G64: return {{1, 64}, {9, 1088}, {35, 2112}, {17, 8256}};
    case DType::NF4: return {{1, 64}, {9, 1088}, {35, 2112}};
    case DType::Q4_K: return {{1, 256}, {9, 1280}, {35, 2304}};
    case DType::I4S_G32:
    case DType::Q4_0: return {{1, 32}, {9, 1056}, {35, 2080}, {17, 8256}};
    default: return {{1, 32}, {9, 1056}, {35, 2080}};
  }
}

// The slice of a shape's rows the dequantization tests write: from a third of the way down to the
// end, with a row stride padded past cols.
struct DequantSlice {
  std::int64_t first, n_rows, stride;
};
inline DequantSlice dequant_slice(const GemvShape& s) {
  return {s.rows / 3, s.rows - s.rows / 3, (s.cols + 7) / 8 * 8 + 8};
}

// The GPU layouts to test dtype in: the chunk layout always, and the tensor-core tiles where dtype has them.
inline std::vector<cuda::GemvLayout> gemv_layouts_for(DType dtype) {
  if (cuda::has_mma_layout(dtype)) return {cuda::GemvLayout::chunks, cuda::GemvLayout::mma_tiles};
  return {cuda::GemvLayout::chunks};
}
inline const char* layout_name(cuda::GemvLayout layout) {
  return layout == cuda::GemvLayout::mma_tiles ? "mma tiles" : "chunks";
}

// Expects y[0 .. batch*rows) finite and within 1e-4 * max |ref| of ref (the CPU kernels::matmul of
// the same packed weight), and y[batch*rows ..) untouched (NaN-poisoned by the caller). Returns
// max |y - ref| / max |ref|.
inline double expect_gemv_matches(const std::vector<float>& y, const std::vector<float>& ref, int batch,
                                std::int64_t rows, const char* what) {
  double max_ref = 0, max_err = 0;
  for (std::int64_t i = 0; i < batch * rows; ++i) {
    if (!std::isfinite(y[i])) {
      ADD_FAILURE() << what << " batch " << batch << ": output " << i << " not written";
      return INFINITY;
    }
    max_ref = std::max(max_ref, std::abs(static_cast<double>(ref[i])));
    max_err = std::max(max_err, std::abs(static_cast<double>(y[i]) - ref[i]));
  }
  for (std::size_t i = static_cast<std::size_t>(batch * rows); i < y.size(); ++i) {
    if (!std::isnan(y[i])) {
      ADD_FAILURE() << what << " batch " << batch << ": output " << i << " past the batch written";
      return INFINITY;
    }
  }
  EXPECT_LT(max_err, 1e-4 * max_ref) << what << " batch " << batch << ": max |gemv - cpu matmul| " << max_err
                                     << ", max |cpu| " << max_ref;
  return max_err / max_ref;
}

// The gated outputs of a gate|up product wx [batch][rows] (rows even): y[b][j] = act(wx[b][j]) *
// wx[b][rows / 2 + j], by the CPU ops (swiglu / geglu_tanh), [batch][rows / 2].
inline std::vector<float> gated_reference(KernelContext& ctx, const std::vector<float>& wx, int batch,
                                          std::int64_t rows, bool gelu_tanh) {
  const std::int64_t half = rows / 2;
  std::vector<float> gate(static_cast<std::size_t>(batch * half)), up(gate.size()), y(gate.size());
  for (int b = 0; b < batch; ++b) {
    for (std::int64_t j = 0; j < half; ++j) {
      gate[b * half + j] = wx[b * rows + j];
      up[b * half + j] = wx[b * rows + half + j];
    }
  }
  if (gelu_tanh) {
    geglu_tanh(ctx, gate.data(), up.data(), y.data(), static_cast<std::int64_t>(y.size()));
  } else {
    swiglu(ctx, gate.data(), up.data(), y.data(), static_cast<std::int64_t>(y.size()));
  }
  return y;
}

// Prints the worst ratio of a format's test (the figure the 1e-4 bar is checked against).
inline void print_gemv_error(const char* source, DType dtype, cuda::GemvLayout layout, double worst) {
  std::printf("[%s] %s (%s): max |gemv - cpu matmul| / max |cpu matmul| = %.2e over all shapes, batch 1..8\n", source,
              std::string(dtype_name(dtype)).c_str(), layout_name(layout), worst);
}

// Checks dequantize_rows_f16's output (on a GPU or its host emulation) against the CPU's
// dequantize() of the same packed bytes: rows [first, first + n_rows) of a weight of `cols`
// columns (host rows row_stride bytes apart) written as f16 bits into out ([n_rows][stride],
// padding pre-filled with 0xFFFF). row_scales null: the values, within one f16 rounding (the scale
// products may differ in their last f32 bit); else the unscaled codes, which times
// row_scales[row] must equal the values (1e-6 relative). Padding must be untouched.
inline void expect_dequantized_f16(DType dtype, const std::uint8_t* bytes, std::size_t row_stride, std::int64_t cols,
                                   std::int64_t first, std::int64_t n_rows, std::int64_t stride,
                                   const std::vector<std::uint16_t>& out, const float* row_scales) {
  std::vector<float> ref(static_cast<std::size_t>(cols));
  int bad = 0;
  for (std::int64_t r = 0; r < n_rows; ++r) {
    dequantize(dtype, bytes + static_cast<std::size_t>(first + r) * row_stride, ref.data(), static_cast<std::size_t>(cols));
    const float row_scale = row_scales != nullptr ? row_scales[first + r] : 1.0f;
    for (std::int64_t c = 0; c < stride; ++c) {
      const std::uint16_t got = out[static_cast<std::size_t>(r * stride + c)];
      if (c >= cols) {
        if (got != 0xFFFF && bad++ < 5) ADD_FAILURE() << dtype_name(dtype) << " padding written at " << r << "," << c;
        continue;
      }
      const float value = f16_to_f32(got) * row_scale;
      const float expected = ref[static_cast<std::size_t>(c)];
      const float tolerance =
          row_scales == nullptr ? std::abs(expected) * 0x1p-10f + 0x1p-24f : std::abs(expected) * 1e-6f;
      if (!(std::abs(value - expected) <= tolerance) && bad++ < 5) {
        ADD_FAILURE() << dtype_name(dtype) << " [" << cols << " cols] row " << first + r << " col " << c
                      << (row_scales == nullptr ? "" : " (codes x row scale)") << ": " << value << " vs " << expected;
      }
    }
  }
}

}  // namespace eaq::kernels::test
