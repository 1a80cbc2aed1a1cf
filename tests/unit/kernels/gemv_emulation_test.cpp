// The CUDA decode GEMV's own code run on the CPU (kernels/cuda/gemv_emulation.h: the kernel's
// per-lane function compiled for the host over every warp and lane) against kernels::matmul on the
// same packed weights: checks the GPU layouts written by pack_for_gpu (permuted f16/bf16/int8/fp8
// rows, split scales, q4_K's nibble reorder and unpacked scales, zero padding), the decoders and
// the indexing, for every format, batch 1..8, odd shapes and padded row strides — on machines with
// no GPU (CI). It does not check what only a GPU can show (the launch, shuffles, memory model):
// gemv_cuda_test.cpp does, on the GPU machine. Also the prefill's dequantization code
// (dequantize_chunk.cuh) against the CPU's dequantize(). Built only with CUDA (the emulation is a
// .cu file).
#include <gtest/gtest.h>

#if EAQ_HAVE_CUDA

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cuda/gemv_emulation.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "kernels/ops.h"
#include "gemv_test_shapes.h"

namespace eaq::kernels::cuda {
namespace {

class GemvEmulation : public ::testing::TestWithParam<DType> {};

TEST_P(GemvEmulation, KernelCodeOnCpuMatchesCpuMatmul) {
  const DType dtype = GetParam();
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  for (GemvLayout layout : test::gemv_layouts_for(dtype)) {
  double worst = 0;
  std::uint64_t seed = 5;
  for (const test::GemvShape& s : test::gemv_shapes_for(dtype)) {
    for (std::size_t pad : {std::size_t{0}, std::size_t{8}}) {  // 8: keeps f32 block fields aligned for the CPU reference
      const std::size_t stride = row_bytes(dtype, static_cast<std::size_t>(s.cols)) + pad;
      const auto bytes = random_packed_weight(dtype, s.rows, s.cols, stride, seed++);
      const WeightRef host{dtype, s.rows, s.cols, bytes.data(), stride};
      const PackedGpuWeight packed = pack_for_gpu(host, layout);
      EXPECT_EQ(packed.layout, layout);
      EXPECT_EQ(packed.code_row_bytes % 16, 0u);
      EXPECT_GE(packed.cols_padded, s.cols);

      GemvRng rng(seed++);
      const int kBatch = 8;
      std::vector<float> x(static_cast<std::size_t>(kBatch * s.cols));
      for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
      std::vector<float> ref(static_cast<std::size_t>(kBatch * s.rows));
      matmul(ctx, x.data(), kBatch, host, nullptr, ref.data());
      const std::string what = std::string(dtype_name(dtype)) + " (" + test::layout_name(layout) + ") [" +
                               std::to_string(s.rows) + "][" + std::to_string(s.cols) + "] pad " + std::to_string(pad);
      for (int batch = 1; batch <= kBatch; ++batch) {
        std::vector<float> y(ref.size(), std::nanf(""));
        gemv_on_host(packed, x.data(), batch, y.data());
        worst = std::max(worst, test::expect_gemv_matches(y, ref, batch, s.rows, what.c_str()));
      }
    }
  }
  test::print_gemv_error("kernel code on the CPU", dtype, layout, worst);
  }
}

// The gated epilogue (GemvEpilogue::gate: gate rows, then up rows; act(gate) * up) of the chunk
// kernel on the CPU against the CPU's matmul then swiglu / geglu_tanh, batch 1..8; the tensor-core
// layout refuses it.
TEST_P(GemvEmulation, GatedEpilogueMatchesCpuMatmulThenActivation) {
  const DType dtype = GetParam();
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  std::uint64_t seed = 41;
  for (const test::GemvShape& shape : test::gemv_shapes_for(dtype)) {
    const test::GemvShape s{2 * (shape.rows + 2), shape.cols};  // even: gate | up
    const std::size_t stride = row_bytes(dtype, static_cast<std::size_t>(s.cols));
    const auto bytes = random_packed_weight(dtype, s.rows, s.cols, stride, seed++);
    const WeightRef host{dtype, s.rows, s.cols, bytes.data(), stride};
    const PackedGpuWeight packed = pack_for_gpu(host, GemvLayout::chunks);
    GemvRng rng(seed++);
    const int kBatch = 8;
    std::vector<float> x(static_cast<std::size_t>(kBatch * s.cols));
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    std::vector<float> wx(static_cast<std::size_t>(kBatch * s.rows));
    matmul(ctx, x.data(), kBatch, host, nullptr, wx.data());
    for (bool gelu : {false, true}) {
      const std::vector<float> ref = test::gated_reference(ctx, wx, kBatch, s.rows, gelu);
      const std::string what = std::string(dtype_name(dtype)) + (gelu ? " geglu [" : " swiglu [") +
                               std::to_string(s.rows) + "][" + std::to_string(s.cols) + "]";
      for (int batch = 1; batch <= kBatch; ++batch) {
        // ref is [kBatch][rows / 2]: its first batch rows are this batch's.
        std::vector<float> y(ref.size(), std::nanf(""));
        gemv_on_host(packed, x.data(), batch, y.data(), GemvEpilogue{nullptr, false, gelu ? Gate::kGeluTanh : Gate::kSilu});
        test::expect_gemv_matches(y, ref, batch, s.rows / 2, what.c_str());
      }
    }
    if (has_mma_layout(dtype)) {
      const PackedGpuWeight tiles = pack_for_gpu(host, GemvLayout::mma_tiles);
      std::vector<float> y(static_cast<std::size_t>(s.rows));
      EXPECT_THROW(gemv_on_host(tiles, x.data(), 1, y.data(), GemvEpilogue{nullptr, false, Gate::kSilu}), eaq::Error);
    }
  }
}

// The prefill's dequantization (dequantize_chunk.cuh, run here on the CPU) against the CPU's
// dequantize() of the same packed bytes: a slice of rows with a padded stride equals it rounded to
// f16 (within one f16 rounding: the scale products may differ in their last f32 bit), padding
// untouched; per-channel formats without the row scale give the codes, exact, which times the
// row's scale are the values. Rows outside the weight are an error. Each slice is written with
// strides of 8k, 8k + 2 and 8k + 1 halves, so that the chunk layout's 8-byte, 4-byte and 2-byte
// stores all run.
TEST_P(GemvEmulation, DequantizeRowsF16MatchesCpuDequantize) {
  const DType dtype = GetParam();
  std::uint64_t seed = 105;
  for (GemvLayout layout : test::gemv_layouts_for(dtype))
  for (const test::GemvShape& s : test::gemv_shapes_for(dtype))
  for (std::int64_t stride_extra : {0, 2, 1}) {
    SCOPED_TRACE(std::string(test::layout_name(layout)) + ", stride + " + std::to_string(stride_extra));
    const std::size_t row_stride = row_bytes(dtype, static_cast<std::size_t>(s.cols));
    const auto bytes = random_packed_weight(dtype, s.rows, s.cols, row_stride, seed++);
    const WeightRef host{dtype, s.rows, s.cols, bytes.data(), row_stride};
    const PackedGpuWeight packed = pack_for_gpu(host, layout);
    const auto [first, n_rows, padded_stride] = test::dequant_slice(s);
    const std::int64_t stride = padded_stride + stride_extra;
    const bool per_row = dtype == DType::I8_CH || dtype == DType::F8_E4M3_CH;
    for (bool with_row_scale : {true, false}) {
      if (!with_row_scale && !per_row) continue;
      std::vector<std::uint16_t> out(static_cast<std::size_t>(n_rows * stride), 0xFFFF);
      dequantize_rows_f16_on_host(packed, first, n_rows, stride, with_row_scale, out.data());
      test::expect_dequantized_f16(dtype, bytes.data(), row_stride, s.cols, first, n_rows, stride, out,
                                   with_row_scale ? nullptr : reinterpret_cast<const float*>(packed.scales.data()));
    }
    std::vector<std::uint16_t> out(static_cast<std::size_t>(n_rows * stride));
    EXPECT_THROW(dequantize_rows_f16_on_host(packed, first, n_rows + 1, stride, true, out.data()), Error);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, GemvEmulation,
                         ::testing::Values(DType::F16, DType::BF16, DType::I8_CH, DType::F8_E4M3_CH, DType::Q8_0,
                                           DType::Q4_0, DType::I4S_G32, DType::I4S_G64, DType::I4S_G128, DType::NF4,
                                           DType::Q4_K),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

// y = y + W x + bias (GemvEpilogue), for a format without and one with group scales, batch 1 and 3.
TEST(GemvEmulation, EpilogueAddsBiasAndAccumulates) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  for (DType dtype : {DType::F16, DType::I4S_G128, DType::I8_CH}) {
    const std::int64_t rows = 37, cols = 1152;
    const std::size_t stride = row_bytes(dtype, cols);
    const auto bytes = random_packed_weight(dtype, rows, cols, stride, 77);
    const WeightRef host{dtype, rows, cols, bytes.data(), stride};
    for (GemvLayout layout : test::gemv_layouts_for(dtype)) {
    const PackedGpuWeight packed = pack_for_gpu(host, layout);
    GemvRng rng(78);
    std::vector<float> x(3 * cols), bias(rows), y0(3 * rows);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : bias) v = rng.uniform(-5.0f, 5.0f);
    for (float& v : y0) v = rng.uniform(-5.0f, 5.0f);
    std::vector<float> wx(3 * rows);
    matmul(ctx, x.data(), 3, host, nullptr, wx.data());
    for (int batch : {1, 3}) {
      std::vector<float> y = y0;
      gemv_on_host(packed, x.data(), batch, y.data(), GemvEpilogue{bias.data(), true});
      for (std::int64_t i = 0; i < 3 * rows; ++i) {
        const float expected = i < batch * rows ? y0[i] + wx[i] + bias[i % rows] : y0[i];
        EXPECT_NEAR(y[i], expected, 1e-4f * (1.0f + std::abs(expected)))
            << dtype_name(dtype) << " (" << test::layout_name(layout) << ") batch " << batch << " output " << i;
      }
    }
    }
  }
}

TEST(GemvEmulationErrors, BadInputIsAnError) {
  std::vector<std::uint8_t> bytes(4 * 64 * 2);
  EXPECT_THROW(pack_for_gpu(WeightRef{DType::Q6_K, 1, 256, bytes.data(), 210}), Error);
  EXPECT_THROW(pack_for_gpu(WeightRef{DType::F16, 2, 12, bytes.data(), 24}), Error);
  EXPECT_THROW(pack_for_gpu(WeightRef{DType::F16, 2, 64, bytes.data(), 100}), Error);
  // The tensor-core layout is for i8_ch, i4s and q4_0 only.
  EXPECT_THROW(pack_for_gpu(WeightRef{DType::F16, 4, 64, bytes.data(), 128}, GemvLayout::mma_tiles), Error);
  const PackedGpuWeight w = pack_for_gpu(WeightRef{DType::F16, 4, 64, bytes.data(), 128});
  std::vector<float> x(9 * 64), y(9 * 4);
  EXPECT_THROW(gemv_on_host(w, x.data(), 0, y.data()), Error);
  EXPECT_THROW(gemv_on_host(w, x.data(), 9, y.data()), Error);
}

}  // namespace
}  // namespace eaq::kernels::cuda

#endif  // EAQ_HAVE_CUDA
