// The prefill GEMM (kernels/cuda/half_gemm.h: cuBLASLt, the algorithm tuned per shape) against a
// double-precision CPU product of the same 16-bit operands: f16 and bf16, token counts and widths
// that are not multiples of a tile, a weight row stride past cols, an output written at a column
// offset of a wider row (unaligned), y += keeping what y held, a shape's first call inside a stream
// capture (the heuristic's first choice) and the same bits from the choice tuned after it, and an
// f16 output. Bar: max |gpu - cpu| / max |cpu| < 1e-5 (f32 accumulation of exact 16-bit products;
// 1e-3 for f16 output). Skips without a GPU.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/cuda/half_gemm.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"

namespace eaq::kernels::cuda {
namespace {

using test::Device;
using test::have_gpu;
using test::random_floats;

struct Case {
  DType dtype;
  int rows, cols, w_stride, tokens, y_stride, y_column;
};

std::vector<std::uint16_t> to_bits(DType dtype, const std::vector<float>& v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = dtype == DType::BF16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
  return out;
}
float from_bits(DType dtype, std::uint16_t b) { return dtype == DType::BF16 ? bf16_to_f32(b) : f16_to_f32(b); }

// y[t][y_column + n] (+)= sum_k x[t][k] W[n][k] in double.
std::vector<double> reference(const Case& c, const std::vector<std::uint16_t>& w, const std::vector<std::uint16_t>& x) {
  std::vector<double> y(static_cast<std::size_t>(c.tokens) * c.rows);
  for (int t = 0; t < c.tokens; ++t) {
    for (int n = 0; n < c.rows; ++n) {
      double s = 0.0;
      for (int k = 0; k < c.cols; ++k) {
        s += static_cast<double>(from_bits(c.dtype, w[static_cast<std::size_t>(n) * c.w_stride + k])) *
             from_bits(c.dtype, x[static_cast<std::size_t>(t) * c.cols + k]);
      }
      y[static_cast<std::size_t>(t) * c.rows + n] = s;
    }
  }
  return y;
}

double rel_error_at(const Case& c, const std::vector<float>& got, const std::vector<double>& want,
                    const std::vector<float>& base) {
  double max_ref = 0.0, max_d = 0.0;
  for (int t = 0; t < c.tokens; ++t) {
    for (int n = 0; n < c.rows; ++n) {
      const std::size_t gi = static_cast<std::size_t>(t) * c.y_stride + c.y_column + n;
      const double w = want[static_cast<std::size_t>(t) * c.rows + n] + base[gi];
      max_ref = std::max(max_ref, std::fabs(w));
      max_d = std::max(max_d, std::fabs(got[gi] - w));
    }
  }
  return max_d / std::max(max_ref, 1e-30);
}

TEST(HalfGemmCuda, MatchesCpuProductTunedAccumulatedAndCaptured) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  const std::vector<Case> cases = {
      {DType::F16, 256, 128, 128, 64, 256, 0},      // plain
      {DType::F16, 200, 136, 144, 37, 640, 72},     // odd tokens, row stride past cols, a column offset
      {DType::BF16, 192, 256, 256, 100, 200, 8},    // bf16, y rows wider than the matrix
      {DType::F16, 1024, 512, 512, 512, 1024, 0},   // a prefill-sized shape
  };
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  HalfGemm gemm(stream, nullptr, 0);
  std::uint32_t seed = 11;
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "rows " << c.rows << " cols " << c.cols << " tokens " << c.tokens
                                    << (c.dtype == DType::BF16 ? " bf16" : " f16"));
    std::vector<float> wf(static_cast<std::size_t>(c.rows) * c.w_stride, 0.0f);
    const auto wv = random_floats(static_cast<std::size_t>(c.rows) * c.cols, seed++, -1.0f, 1.0f);
    for (int n = 0; n < c.rows; ++n) {
      for (int k = 0; k < c.cols; ++k) {
        wf[static_cast<std::size_t>(n) * c.w_stride + k] = wv[static_cast<std::size_t>(n) * c.cols + k];
      }
    }
    const auto w = to_bits(c.dtype, wf);
    const auto x = to_bits(c.dtype, random_floats(static_cast<std::size_t>(c.tokens) * c.cols, seed++, -2.0f, 2.0f));
    const auto want = reference(c, w, x);
    const std::size_t y_size = static_cast<std::size_t>(c.tokens) * c.y_stride;
    const std::vector<float> zeros(y_size, 0.0f);
    const std::vector<float> base = random_floats(y_size, seed++, -3.0f, 3.0f);
    Device<std::uint16_t> dw(w), dx(x);

    // The shape's first call inside a stream capture (it cannot tune there; a graph launched
    // after): the same product.
    Device<float> y4(zeros);
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    gemm.run(c.dtype, dw.ptr, c.rows, c.cols, c.w_stride, dx.ptr, c.tokens, y4.ptr + c.y_column, c.y_stride);
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    const auto g4 = y4.get();
    EXPECT_LT(rel_error_at(c, g4, want, zeros), 1e-5);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);

    // The first call outside a capture tunes; its (tuned) choice writes the same bits as the
    // heuristic's first choice did in the graph: the candidates do not split K (half_gemm.h).
    Device<float> y1(zeros);
    gemm.run(c.dtype, dw.ptr, c.rows, c.cols, c.w_stride, dx.ptr, c.tokens, y1.ptr + c.y_column, c.y_stride);
    const auto g1 = y1.get();
    EXPECT_LT(rel_error_at(c, g1, want, zeros), 1e-5);
    EXPECT_EQ(g1, g4);
    // Outside the written columns y is untouched.
    for (int t = 0; t < c.tokens; ++t) {
      for (int n = 0; n < c.y_stride; ++n) {
        if (n >= c.y_column && n < c.y_column + c.rows) continue;
        ASSERT_EQ(g1[static_cast<std::size_t>(t) * c.y_stride + n], 0.0f) << "token " << t << " column " << n;
      }
    }

    // y += : adds to what y held.
    Device<float> y3(base);
    gemm.run(c.dtype, dw.ptr, c.rows, c.cols, c.w_stride, dx.ptr, c.tokens, y3.ptr + c.y_column, c.y_stride, true);
    EXPECT_LT(rel_error_at(c, y3.get(), want, base), 1e-5);

  }
  // f16 output (the prefill's gate|up): the f32 sums rounded once to f16, written at a column offset.
  {
    const Case c{DType::F16, 256, 192, 192, 77, 320, 16};
    const auto w = to_bits(c.dtype, random_floats(static_cast<std::size_t>(c.rows) * c.cols, seed++, -1.0f, 1.0f));
    const auto x = to_bits(c.dtype, random_floats(static_cast<std::size_t>(c.tokens) * c.cols, seed++, -2.0f, 2.0f));
    const auto want = reference(c, w, x);
    Device<std::uint16_t> dw(w), dx(x), y(std::vector<std::uint16_t>(static_cast<std::size_t>(c.tokens) * c.y_stride, 0));
    gemm.run(c.dtype, dw.ptr, c.rows, c.cols, c.w_stride, dx.ptr, c.tokens, y.ptr + c.y_column, c.y_stride, false,
             DType::F16);
    const auto got = y.get();
    double max_ref = 0.0, max_d = 0.0;
    for (int t = 0; t < c.tokens; ++t) {
      for (int n = 0; n < c.rows; ++n) {
        const double r = want[static_cast<std::size_t>(t) * c.rows + n];
        max_ref = std::max(max_ref, std::fabs(r));
        max_d = std::max(max_d, std::fabs(f16_to_f32(got[static_cast<std::size_t>(t) * c.y_stride + c.y_column + n]) - r));
      }
      ASSERT_EQ(got[static_cast<std::size_t>(t) * c.y_stride], 0) << "column 0 of token " << t << " was written";
    }
    EXPECT_LT(max_d / max_ref, 1e-3);  // f16 rounding: 2^-11 of each value
  }
  EXPECT_NE(gemm.describe().find("candidate"), std::string::npos);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace eaq::kernels::cuda
