// The mixed-input prefill GEMM (kernels/cuda/mixed_input_gemm.h: CUTLASS's Hopper kernel on packed
// int4 / int8 codes) against a double-precision CPU product of the values it is meant to use:
// int4 f16(code x group scale) (the value the dequantizing prefill writes), int8 the exact code
// with its row scale on the output. Token counts that are not multiples of the 128-token tile (37,
// 100), groups of 64 and 128, y += (int4), an output at a column offset of wider rows, and one
// call inside a CUDA graph. (Rows or columns not multiples of 128 are not offered:
// mixed_input_gemm.h.) Bar: max |gpu - cpu| / max |cpu| < 1e-5 (f32 accumulation of exact f16
// products, as HalfGemmCuda's). Skips without a GPU or where the GEMM is unavailable (a build
// without CUTLASS, a GPU other than compute capability 9.0).
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "kernels/cuda/mixed_input_gemm.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"

namespace eaq::kernels::cuda {
namespace {

using test::Device;
using test::have_gpu;

struct Case {
  DType dtype;
  int rows, cols, tokens, y_stride, y_column;
  bool accumulate, in_graph;
};

// W[r][k] as the GEMM multiplies it, and the factor its output row gets after (int8's row scale).
struct CpuWeight {
  std::vector<double> w;
  std::vector<double> out_scale;
};
CpuWeight cpu_weight(const Case& c, const std::vector<std::uint8_t>& host, std::size_t stride) {
  CpuWeight cw;
  cw.w.resize(static_cast<std::size_t>(c.rows) * c.cols);
  cw.out_scale.assign(static_cast<std::size_t>(c.rows), 1.0);
  std::vector<float> row(static_cast<std::size_t>(c.cols));
  for (int r = 0; r < c.rows; ++r) {
    const std::uint8_t* src = host.data() + static_cast<std::size_t>(r) * stride;
    dequantize(c.dtype, src, row.data(), row.size());
    if (c.dtype == DType::I8_CH) {
      float scale;
      std::memcpy(&scale, src, 4);
      cw.out_scale[static_cast<std::size_t>(r)] = scale;
      for (int k = 0; k < c.cols; ++k) {
        cw.w[static_cast<std::size_t>(r) * c.cols + k] = static_cast<std::int8_t>(src[4 + k]);
      }
    } else {
      for (int k = 0; k < c.cols; ++k) {
        cw.w[static_cast<std::size_t>(r) * c.cols + k] = f16_to_f32(f32_to_f16(row[static_cast<std::size_t>(k)]));
      }
    }
  }
  return cw;
}

// One case: a random weight and x, the GEMM (in a graph where asked), every output against the
// double-precision CPU product; values outside the output's columns must stay as they were.
void check_case(const Case& c, std::uint64_t& seed, cudaStream_t stream) {
  SCOPED_TRACE(std::string(dtype_name(c.dtype)) + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols) + " tokens " +
               std::to_string(c.tokens) + (c.accumulate ? " y +=" : "") + " column " + std::to_string(c.y_column));
  const std::size_t stride = row_bytes(c.dtype, static_cast<std::size_t>(c.cols));
  const std::vector<std::uint8_t> host = random_packed_weight(c.dtype, c.rows, c.cols, stride, seed++);
  MixedGemmWeight w = upload_mixed_gemm_weight(WeightRef{c.dtype, c.rows, c.cols, host.data(), stride});
  const CpuWeight cw = cpu_weight(c, host, stride);
  const std::vector<float> xf = test::random_floats(static_cast<std::size_t>(c.tokens) * c.cols, static_cast<std::uint32_t>(seed++));
  std::vector<std::uint16_t> x(xf.size());
  for (std::size_t i = 0; i < xf.size(); ++i) x[i] = f32_to_f16(xf[i]);
  const std::vector<float> base = test::random_floats(static_cast<std::size_t>(c.tokens) * c.y_stride, static_cast<std::uint32_t>(seed++));
  Device<std::uint16_t> dx(x);
  Device<float> dy(base);
  if (c.in_graph) {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
    mixed_gemm(w, dx.ptr, c.tokens, dy.ptr + c.y_column, c.y_stride, c.accumulate, stream);
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  } else {
    mixed_gemm(w, dx.ptr, c.tokens, dy.ptr + c.y_column, c.y_stride, c.accumulate, stream);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  }
  const std::vector<float> got = dy.get();
  double max_ref = 0.0, max_d = 0.0;
  std::size_t outside_changed = 0, not_finite = 0;
  for (int t = 0; t < c.tokens; ++t) {
    for (int col = 0; col < c.y_stride; ++col) {
      const std::size_t gi = static_cast<std::size_t>(t) * c.y_stride + col;
      const int r = col - c.y_column;
      if (r < 0 || r >= c.rows) {
        outside_changed += got[gi] != base[gi];
        continue;
      }
      double s = 0.0;
      for (int k = 0; k < c.cols; ++k) {
        s += cw.w[static_cast<std::size_t>(r) * c.cols + k] * f16_to_f32(x[static_cast<std::size_t>(t) * c.cols + k]);
      }
      const double want = s * cw.out_scale[static_cast<std::size_t>(r)] + (c.accumulate ? base[gi] : 0.0);
      max_ref = std::max(max_ref, std::fabs(want));
      if (!std::isfinite(got[gi])) ++not_finite;
      else max_d = std::max(max_d, std::fabs(got[gi] - want));
    }
  }
  EXPECT_EQ(not_finite, 0u);
  EXPECT_LT(max_d / std::max(max_ref, 1e-30), 1e-5);
  EXPECT_EQ(outside_changed, 0u) << "values outside the output's columns were written";
  free_mixed_gemm_weight(w);
}

TEST(MixedInputGemmCuda, MatchesCpuProductOfTheValuesItUses) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  if (!mixed_gemm_available()) GTEST_SKIP() << "the mixed-input GEMM is not in this build or not for this GPU";
  const std::vector<Case> cases = {
      {DType::I4S_G128, 256, 512, 100, 256, 0, false, false},
      {DType::I4S_G64, 256, 768, 37, 256, 0, false, false},     // groups of 64, K of 12 tiles of 64
      {DType::I4S_G128, 256, 512, 37, 400, 52, false, false},   // at a column offset of wider rows
      {DType::I4S_G128, 256, 512, 100, 256, 0, true, false},    // y += (the engine's o_proj / down)
      {DType::I4S_G64, 128, 256, 37, 400, 52, true, false},     // y +=, at a column offset
      {DType::I8_CH, 384, 256, 37, 384, 0, false, false},
      {DType::I8_CH, 256, 640, 37, 256, 0, false, false},       // K an odd multiple of 128
      {DType::I4S_G128, 1024, 1024, 512, 1024, 0, true, true},  // a prefill-sized shape, y +=, in a graph
  };
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  std::uint64_t seed = 21;
  for (const Case& c : cases) check_case(c, seed, stream);
  cudaStreamDestroy(stream);
}

// Every K (cols) from 128 to 1024 that the GEMM takes, groups of 64 and 128. On an H100 (2026-12-07,
// sixteenth session) this sweep over every multiple of 128 gave infinite outputs at K = 128, 384,
// 640 and 896 (odd multiples of 128) for both group sizes, and exact ones at 256, 512, 768 and
// 1024. The cause: the upload's reordering copy stepped over 256 codes of a row unchecked, and
// overran its buffer onto the scales at the other K (mixed_input_gemm.h); it now steps over 128.
TEST(MixedInputGemmCuda, EveryKItTakesUpTo1024) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  if (!mixed_gemm_available()) GTEST_SKIP() << "the mixed-input GEMM is not in this build or not for this GPU";
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  std::uint64_t seed = 77;
  for (const DType dtype : {DType::I4S_G64, DType::I4S_G128}) {
    for (int cols = 128; cols <= 1024; cols += 128) {
      if (mixed_gemm_takes(dtype, 128, cols)) check_case(Case{dtype, 128, cols, 37, 128, 0, false, false}, seed, stream);
    }
  }
  cudaStreamDestroy(stream);
}

TEST(MixedInputGemmCuda, RefusesWhatItCannotTake) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  if (!mixed_gemm_available()) GTEST_SKIP() << "the mixed-input GEMM is not in this build or not for this GPU";
  const std::size_t stride = row_bytes(DType::I8_CH, 256);
  const std::vector<std::uint8_t> host = random_packed_weight(DType::I8_CH, 128, 256, stride, 1);
  MixedGemmWeight w = upload_mixed_gemm_weight(WeightRef{DType::I8_CH, 128, 256, host.data(), stride});
  Device<std::uint16_t> dx(std::vector<std::uint16_t>(16 * 256, 0));
  Device<float> dy(std::vector<float>(16 * 140, 0.0f));
  EXPECT_THROW(mixed_gemm(w, dx.ptr, 16, dy.ptr + 1, 128, false, nullptr), Error);  // y not 16-byte aligned
  EXPECT_THROW(mixed_gemm(w, dx.ptr, 16, dy.ptr, 130, false, nullptr), Error);      // row stride not a multiple of 4
  EXPECT_THROW(mixed_gemm(w, dx.ptr, 16, dy.ptr, 124, false, nullptr), Error);      // row stride under the weight's rows
  EXPECT_THROW(mixed_gemm(w, dx.ptr, 16, dy.ptr, 128, true, nullptr), Error);       // y += on int8 (its row scale)
  // Shapes the GEMM does not take are refused at upload.
  const std::vector<std::uint8_t> odd = random_packed_weight(DType::I4S_G128, 144, 256, row_bytes(DType::I4S_G128, 256), 2);
  EXPECT_THROW(upload_mixed_gemm_weight(WeightRef{DType::I4S_G128, 144, 256, odd.data(), row_bytes(DType::I4S_G128, 256)}),
               Error);
  free_mixed_gemm_weight(w);
}

}  // namespace
}  // namespace eaq::kernels::cuda
