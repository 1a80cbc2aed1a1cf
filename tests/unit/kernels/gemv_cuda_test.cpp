// The CUDA decode GEMV (kernels/cuda/cuda_gemv.h) against the CPU kernels::matmul on the same packed
// weights, for every format it takes, batch 1..8, odd shapes (rows not a multiple of the rows per
// warp or block, cols not a multiple of the kernels' 256/512/1024-weight step, padded row strides).
// Bar: max |gpu - cpu| / max |cpu| < 1e-4 (both accumulate in f32, in different orders), every output
// written. The bad-input tests need no GPU; the others skip when there is none.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "kernels/ops.h"
#include "cuda_test_buffers.h"
#include "gemv_test_shapes.h"

namespace eaq::kernels::cuda {
namespace {

using test::have_gpu;

class GemvCuda : public ::testing::TestWithParam<DType> {};

// Every layout of `dtype` against the CPU matmul, every shape of gemv_test_shapes.h, batch 1..8.
void check_gemv_matches_cpu(DType dtype) {
  ASSERT_TRUE(gemv_supports(dtype));
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  for (GemvLayout layout : test::gemv_layouts_for(dtype)) {
  double worst = 0;
  std::uint64_t seed = 11;
  for (const test::GemvShape& s : test::gemv_shapes_for(dtype)) {
    for (std::size_t pad : {std::size_t{0}, std::size_t{8}}) {  // 8: keeps f32 block fields aligned for the CPU reference
      const std::size_t stride = row_bytes(dtype, static_cast<std::size_t>(s.cols)) + pad;
      const auto bytes = random_packed_weight(dtype, s.rows, s.cols, stride, seed++);
      const WeightRef host{dtype, s.rows, s.cols, bytes.data(), stride};
      GpuWeight w = upload_weight(host, nullptr, layout);
      EXPECT_EQ(w.layout, layout);

      GemvRng rng(seed++);
      std::vector<float> x(static_cast<std::size_t>(kMaxGemvBatch * s.cols));
      for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
      std::vector<float> ref(static_cast<std::size_t>(kMaxGemvBatch * s.rows));
      matmul(ctx, x.data(), kMaxGemvBatch, host, nullptr, ref.data());

      float *d_x = nullptr, *d_y = nullptr;
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_x), x.size() * 4), cudaSuccess);
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_y), ref.size() * 4), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(d_x, x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
      for (int batch = 1; batch <= kMaxGemvBatch; ++batch) {
        ASSERT_EQ(cudaMemset(d_y, 0xFF, ref.size() * 4), cudaSuccess);  // NaN: unwritten outputs show
        gemv(w, d_x, batch, d_y, nullptr);
        ASSERT_EQ(cudaGetLastError(), cudaSuccess);
        std::vector<float> y(ref.size());
        ASSERT_EQ(cudaMemcpy(y.data(), d_y, y.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
        const std::string what = std::string(dtype_name(dtype)) + " (" + test::layout_name(layout) + ") [" +
                                 std::to_string(s.rows) + "][" + std::to_string(s.cols) + "] pad " + std::to_string(pad);
        worst = std::max(worst, test::expect_gemv_matches(y, ref, batch, s.rows, what.c_str()));
      }
      cudaFree(d_x);
      cudaFree(d_y);
      free_weight(w);
      EXPECT_EQ(w.codes, nullptr);
    }
  }
  test::print_gemv_error("GPU", dtype, layout, worst);
  }
}

TEST_P(GemvCuda, MatchesCpuMatmulForBatch1To8) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  check_gemv_matches_cpu(GetParam());
}

// dequantize_rows_f16 (the packed formats' prefill operand): a slice of rows, written with a
// padded stride, equals the CPU's dequantize() of the same packed bytes rounded to f16 (within one
// f16 rounding: the scale products may differ in their last f32 bit); padding left untouched; for
// per-channel formats also the unscaled codes (exact) times row_scales().
TEST_P(GemvCuda, DequantizeRowsF16MatchesCpuDequantize) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  const DType dtype = GetParam();
  std::uint64_t seed = 211;
  for (GemvLayout layout : test::gemv_layouts_for(dtype))
  for (const test::GemvShape& s : test::gemv_shapes_for(dtype)) {
    SCOPED_TRACE(test::layout_name(layout));
    const std::size_t row_stride = row_bytes(dtype, static_cast<std::size_t>(s.cols));
    const auto bytes = random_packed_weight(dtype, s.rows, s.cols, row_stride, seed++);
    const WeightRef host{dtype, s.rows, s.cols, bytes.data(), row_stride};
    GpuWeight w = upload_weight(host, nullptr, layout);
    const auto [first, n_rows, stride] = test::dequant_slice(s);
    std::uint16_t* d_out = nullptr;
    const std::size_t n = static_cast<std::size_t>(n_rows * stride);
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_out), n * 2), cudaSuccess);
    ASSERT_EQ(cudaMemset(d_out, 0xFF, n * 2), cudaSuccess);
    dequantize_rows_f16(w, first, n_rows, stride, true, d_out, nullptr);
    std::vector<std::uint16_t> out(n);
    ASSERT_EQ(cudaMemcpy(out.data(), d_out, n * 2, cudaMemcpyDeviceToHost), cudaSuccess);
    test::expect_dequantized_f16(dtype, bytes.data(), row_stride, s.cols, first, n_rows, stride, out, nullptr);
    EXPECT_THROW(dequantize_rows_f16(w, first, n_rows + 1, stride, true, d_out, nullptr), Error);
    // Without the row scale (per-channel formats): the codes, exact, times row_scales() = the values.
    if (const float* d_scales = row_scales(w)) {
      ASSERT_EQ(cudaMemset(d_out, 0xFF, n * 2), cudaSuccess);
      dequantize_rows_f16(w, first, n_rows, stride, false, d_out, nullptr);
      ASSERT_EQ(cudaMemcpy(out.data(), d_out, n * 2, cudaMemcpyDeviceToHost), cudaSuccess);
      std::vector<float> scales(static_cast<std::size_t>(s.rows));
      ASSERT_EQ(cudaMemcpy(scales.data(), d_scales, scales.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
      test::expect_dequantized_f16(dtype, bytes.data(), row_stride, s.cols, first, n_rows, stride, out, scales.data());
    }
    cudaFree(d_out);
    free_weight(w);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, GemvCuda,
                         ::testing::Values(DType::F16, DType::BF16, DType::I8_CH, DType::F8_E4M3_CH, DType::Q8_0,
                                           DType::Q4_0, DType::I4S_G32, DType::I4S_G64, DType::I4S_G128, DType::NF4,
                                           DType::Q4_K),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

// y = y + W x + bias (GemvEpilogue) on the GPU, batch 1 and 3.
TEST(GemvCuda, EpilogueAddsBiasAndAccumulates) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  for (DType dtype : {DType::F16, DType::I4S_G128, DType::I8_CH}) {
    const std::int64_t rows = 37, cols = 1152;
    const std::size_t stride = row_bytes(dtype, cols);
    const auto bytes = random_packed_weight(dtype, rows, cols, stride, 77);
    const WeightRef host{dtype, rows, cols, bytes.data(), stride};
    GpuWeight w = upload_weight(host, nullptr);
    GemvRng rng(78);
    std::vector<float> x(3 * cols), bias(rows), y0(3 * rows);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : bias) v = rng.uniform(-5.0f, 5.0f);
    for (float& v : y0) v = rng.uniform(-5.0f, 5.0f);
    std::vector<float> wx(3 * rows);
    matmul(ctx, x.data(), 3, host, nullptr, wx.data());
    float *d_x = nullptr, *d_y = nullptr, *d_bias = nullptr;
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_x), x.size() * 4), cudaSuccess);
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_y), y0.size() * 4), cudaSuccess);
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_bias), bias.size() * 4), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(d_x, x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(d_bias, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    for (int batch : {1, 3}) {
      ASSERT_EQ(cudaMemcpy(d_y, y0.data(), y0.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
      gemv(w, d_x, batch, d_y, nullptr, GemvEpilogue{d_bias, true});
      std::vector<float> y(y0.size());
      ASSERT_EQ(cudaMemcpy(y.data(), d_y, y.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
      for (std::int64_t i = 0; i < 3 * rows; ++i) {
        const float expected = i < batch * rows ? y0[i] + wx[i] + bias[i % rows] : y0[i];
        EXPECT_NEAR(y[i], expected, 1e-4f * (1.0f + std::abs(expected))) << dtype_name(dtype) << " batch " << batch
                                                                          << " output " << i;
      }
    }
    cudaFree(d_x);
    cudaFree(d_y);
    cudaFree(d_bias);
    free_weight(w);
  }
}

// The gated epilogue (gate rows, then up rows; y = act(gate) * up) on the GPU against the CPU's
// matmul then swiglu / geglu_tanh, batch 1, 2, 4 and 5, for formats of the chunk kernel and for
// i4s_g128's tensor-core tiles, which take it where their cluster kernel runs (sm_90, batch 1-4,
// gate rows a multiple of 16: 176 here, 11 row tiles over 3 clusters) and refuse it elsewhere (37
// gate rows; batch 5).
// The gated epilogue (SwiGLU, GeGLU) of each kernel against the CPU's matmul then activation.
void check_gated_epilogue() {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  struct Case {
    DType dtype;
    std::int64_t gate_rows;
  };
  const char* mma_kernel = std::getenv("EAQ_CUDA_MMA_KERNEL");
  const bool cluster_kernel = compute_capability_major() >= 9 && (mma_kernel == nullptr || std::string(mma_kernel) != "rows");
  for (const Case& c : {Case{DType::F16, 37}, Case{DType::I8_CH, 37}, Case{DType::Q8_0, 37}, Case{DType::I4S_G128, 37},
                        Case{DType::I4S_G128, 176}}) {
    const DType dtype = c.dtype;
    const std::int64_t rows = 2 * c.gate_rows, cols = 1152;
    const std::size_t stride = row_bytes(dtype, cols);
    const auto bytes = random_packed_weight(dtype, rows, cols, stride, 91);
    const WeightRef host{dtype, rows, cols, bytes.data(), stride};
    GpuWeight w = upload_weight(host, nullptr);
    const std::string name = std::string(dtype_name(dtype)) + " gate rows " + std::to_string(c.gate_rows);
    if (w.layout == GemvLayout::mma_tiles) {
      EXPECT_EQ(gemv_supports_gate(w, 1), cluster_kernel && c.gate_rows % 16 == 0) << name;
      EXPECT_FALSE(gemv_supports_gate(w, 5)) << name;
    } else {
      EXPECT_TRUE(gemv_supports_gate(w, 5)) << name;
    }
    GemvRng rng(92);
    const int kBatch = 5;
    std::vector<float> x(kBatch * cols), wx(kBatch * rows);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    matmul(ctx, x.data(), kBatch, host, nullptr, wx.data());
    float *d_x = nullptr, *d_y = nullptr;
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_x), x.size() * 4), cudaSuccess);
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_y), wx.size() * 4), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(d_x, x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    for (bool gelu : {false, true}) {
      const std::vector<float> ref = test::gated_reference(ctx, wx, kBatch, rows, gelu);
      const GemvEpilogue gate{nullptr, false, gelu ? Gate::kGeluTanh : Gate::kSilu};
      for (int batch : {1, 2, 4, 5}) {
        if (!gemv_supports_gate(w, batch)) {
          EXPECT_THROW(gemv(w, d_x, batch, d_y, nullptr, gate), eaq::Error) << name << " batch " << batch;
          continue;
        }
        std::vector<float> y(ref.size(), std::nanf(""));
        ASSERT_EQ(cudaMemcpy(d_y, y.data(), y.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
        gemv(w, d_x, batch, d_y, nullptr, gate);
        ASSERT_EQ(cudaMemcpy(y.data(), d_y, y.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
        const std::string what = name + (gelu ? " geglu" : " swiglu");
        test::expect_gemv_matches(y, ref, batch, rows / 2, what.c_str());
      }
    }
    cudaFree(d_x);
    cudaFree(d_y);
    free_weight(w);
  }
}

TEST(GemvCuda, GatedEpilogueMatchesCpuMatmulThenActivation) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  check_gated_epilogue();
}

// The tensor-core cluster kernel's merge by cluster barriers (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier,
// sm_90; the tests above run the default, pushed): the same checks against the CPU for the formats
// it takes, plain and gated.
TEST(GemvCuda, BarrierClusterMergeMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  if (compute_capability_major() < 9) GTEST_SKIP() << "the cluster kernel needs sm_90";
  struct BarrierMerge {  // set for this test only, even when a check fails
    BarrierMerge() { setenv("EAQ_CUDA_MMA_CLUSTER_MERGE", "barrier", 1); }
    ~BarrierMerge() { unsetenv("EAQ_CUDA_MMA_CLUSTER_MERGE"); }
  } barriers;
  for (DType dtype : {DType::I4S_G32, DType::I4S_G64, DType::I4S_G128, DType::Q4_0, DType::I8_CH}) {
    check_gemv_matches_cpu(dtype);
  }
  check_gated_epilogue();
}

TEST(GemvCudaErrors, UnsupportedDtypeIsAnErrorNamingIt) {
  EXPECT_FALSE(gemv_supports(DType::Q6_K));
  std::vector<std::uint8_t> bytes(row_bytes(DType::Q6_K, 256) * 2);
  try {
    upload_weight(WeightRef{DType::Q6_K, 2, 256, bytes.data(), row_bytes(DType::Q6_K, 256)}, nullptr);
    FAIL() << "expected eaq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q6_k"), std::string::npos) << e.what();
  }
}

TEST(GemvCudaErrors, ColsNotAMultipleOf8IsAnError) {
  std::vector<std::uint8_t> bytes(2 * 12 * 2);
  EXPECT_THROW(upload_weight(WeightRef{DType::F16, 2, 12, bytes.data(), 24}, nullptr), Error);
}

TEST(GemvCudaErrors, ShortRowStrideIsAnError) {
  std::vector<std::uint8_t> bytes(2 * 64 * 2);
  EXPECT_THROW(upload_weight(WeightRef{DType::F16, 2, 64, bytes.data(), 100}, nullptr), Error);
}

TEST(GemvCudaErrors, BatchOutside1To8IsAnError) {
  GpuWeight w;  // never uploaded: the batch is checked first, then the missing upload, then x alignment
  w.rows = 4;
  w.cols = 64;
  EXPECT_THROW(gemv(w, nullptr, 0, nullptr, nullptr), Error);
  EXPECT_THROW(gemv(w, nullptr, kMaxGemvBatch + 1, nullptr, nullptr), Error);
  EXPECT_THROW(gemv(w, nullptr, 1, nullptr, nullptr), Error);
  w.codes = reinterpret_cast<void*>(std::uintptr_t{256});  // checked on the host only, never read
  EXPECT_THROW(gemv(w, reinterpret_cast<const float*>(std::uintptr_t{260}), 1, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace eaq::kernels::cuda
