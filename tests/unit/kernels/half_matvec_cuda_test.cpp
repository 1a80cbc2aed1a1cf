// The dense f16/bf16 decode GEMV (kernels/cuda/decoder_ops.h: half_matvec) against the CPU's
// matmul on the same 16-bit weights: batch 1..8, rows whose length is not a multiple of 8, every
// warps-a-row split and the scalar kernel, the fused forms (input norm, bias and y +=, the gated
// activation of a gate|up matrix). Bar: max |gpu - cpu| / max(1, max |cpu|) < 2e-4 (f32
// arithmetic in a different order). Skips without a GPU.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/ops.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"
#include "gemv_test_shapes.h"

namespace eaq::kernels::cuda {
namespace {

using test::CpuContext;
using test::Device;
using test::have_gpu;
using test::random_floats;
using test::rel_error;

// rows x cols random weights [lo, hi) in f16 or bf16, each row padded to a multiple of 8 halves
// (`stride` halves a row, the padding zero), and the same as a WeightRef for the CPU ops.
struct HalfRows {
  std::vector<std::uint16_t> bits;
  int stride = 0;
  WeightRef ref(DType dtype, int rows, int cols) const {
    return WeightRef{dtype, rows, cols, bits.data(), static_cast<std::size_t>(stride) * 2};
  }
};
HalfRows random_half_rows(DType dtype, int rows, int cols, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  HalfRows h;
  h.stride = (cols + 7) / 8 * 8;
  const auto wf = random_floats(static_cast<std::size_t>(rows) * cols, seed, lo, hi);
  h.bits.assign(static_cast<std::size_t>(rows) * h.stride, 0);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < cols; ++k) {
      const float v = wf[static_cast<std::size_t>(r) * cols + k];
      h.bits[static_cast<std::size_t>(r) * h.stride + k] = dtype == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    }
  }
  return h;
}

TEST(DecoderOpsCuda, HalfMatvecMatchesCpuMatmul) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (DType dtype : {DType::F16, DType::BF16}) {
    for (auto [rows, cols] : {std::pair{37, 64}, std::pair{300, 172}, std::pair{20000, 1024}, std::pair{513, 2048}}) {
      const HalfRows h = random_half_rows(dtype, rows, cols, 10);
      const int stride = h.stride;
      const std::vector<std::uint16_t>& w = h.bits;
      const WeightRef ref_w = h.ref(dtype, rows, cols);
      auto x = random_floats(static_cast<std::size_t>(8 * cols), 11);
      std::vector<float> ref(static_cast<std::size_t>(8 * rows));
      matmul(c.ctx, x.data(), 8, ref_w, nullptr, ref.data());
      Device<std::uint16_t> d_w(w);
      Device<float> d_x(x);
      for (int batch : {1, 3, 4, 8}) {
        Device<float> d_y(std::vector<float>(static_cast<std::size_t>(batch * rows), NAN));
        half_matvec(d_w.ptr, dtype, rows, cols, stride, d_x.ptr, batch, d_y.ptr, nullptr);
        const std::vector<float> ref_b(ref.begin(), ref.begin() + batch * rows);
        EXPECT_LT(rel_error(d_y.get(), ref_b), 2e-4) << dtype_name(dtype) << " " << rows << "x" << cols << " batch " << batch;
      }
    }
  }
}

// The decode GEMV with its fusions (the engine's decode step): the input RMSNorm folded in (gemma's
// 1 + w offset too), a bias, and y += for the residual stream, against the CPU's norm then matmul.
// The gated form (HalfMatvecFusion::gate: gate rows, then up rows; y = act(gate) * up) against the
// CPU's matmul then swiglu / geglu_tanh (swiglu also after the input norm), on every warps-a-row
// split (4: 2048-long rows, 2: 1536-long rows, 1: 17920 rows of 1536), the scalar kernel (172-long
// rows), f16 and bf16, batch 1, 3 and 8.
TEST(DecoderOpsCuda, HalfMatvecGatedMatchesCpuMatmulThenActivation) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (auto [rows, cols, dtype] : {std::tuple{11008, 2048, DType::F16}, std::tuple{3072, 1536, DType::BF16},
                                   std::tuple{17920, 1536, DType::F16}, std::tuple{172, 172, DType::F16}}) {
    const HalfRows h = random_half_rows(dtype, rows, cols, 30, -0.1f, 0.1f);
    const int stride = h.stride;
    const std::vector<std::uint16_t>& w = h.bits;
    const WeightRef ref_w = h.ref(dtype, rows, cols);
    auto x = random_floats(static_cast<std::size_t>(8 * cols), 31, -2.0f, 2.0f);
    // The input norm's weights (offset 1, as gemma's) and the CPU's rms_norm of x.
    auto g = random_floats(static_cast<std::size_t>(cols), 32, -0.5f, 0.5f);
    std::vector<float> xn(x.size());
    for (int b = 0; b < 8; ++b) {
      rms_norm(c.ctx, x.data() + b * cols, g.data(), 1.0f, 1e-6f, 1, cols, xn.data() + b * cols);
    }
    std::vector<float> wx(static_cast<std::size_t>(8 * rows)), wxn(wx.size());
    matmul(c.ctx, x.data(), 8, ref_w, nullptr, wx.data());
    matmul(c.ctx, xn.data(), 8, ref_w, nullptr, wxn.data());
    Device<std::uint16_t> d_w(w);
    Device<float> d_x(x), d_g(g);
    for (auto [gelu, normed] : {std::pair{false, false}, std::pair{true, false}, std::pair{false, true}}) {
      const std::vector<float> ref = test::gated_reference(c.ctx, normed ? wxn : wx, 8, rows, gelu);
      for (int batch : {1, 3, 8}) {
        HalfMatvecFusion f;
        f.gate = gelu ? Gate::kGeluTanh : Gate::kSilu;
        if (normed) {
          f.norm_weight = d_g.ptr;
          f.norm_offset = 1.0f;
          f.norm_eps = 1e-6f;
        }
        Device<float> d_y(std::vector<float>(static_cast<std::size_t>(8 * rows / 2), NAN));
        half_matvec(d_w.ptr, dtype, rows, cols, stride, d_x.ptr, batch, d_y.ptr, nullptr, f);
        const auto y = d_y.get();
        const std::string what = std::to_string(rows) + "x" + std::to_string(cols) + " " +
                                 std::string(dtype_name(dtype)) + (gelu ? " geglu" : " swiglu") +
                                 (normed ? " with the input norm" : "") + " batch " +
                                 std::to_string(batch);
        EXPECT_LT(rel_error(std::vector<float>(y.begin(), y.begin() + batch * rows / 2),
                            std::vector<float>(ref.begin(), ref.begin() + batch * rows / 2)),
                  2e-4)
            << what;
        EXPECT_TRUE(std::all_of(y.begin() + batch * rows / 2, y.end(), [](float v) { return std::isnan(v); }))
            << what << ": wrote past the batch";
      }
    }
  }
  HalfMatvecFusion bad;
  bad.gate = Gate::kSilu;
  bad.accumulate = true;
  EXPECT_THROW(half_matvec(nullptr, DType::F16, 8, 8, 8, nullptr, 1, nullptr, nullptr, bad), Error);
}

TEST(DecoderOpsCuda, HalfMatvecFusedNormAndResidualMatchCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  // Splits 4 (6144x2048, 33x4096, 64x11008), 2 (2048x5504), 1 (17920x1536) and the scalar kernel
  // (300x172).
  for (auto [rows, cols] : {std::pair{300, 172}, std::pair{6144, 2048}, std::pair{2048, 5504}, std::pair{33, 4096},
                            std::pair{64, 11008}, std::pair{17920, 1536}}) {
    for (float offset : {0.0f, 1.0f}) {
      const HalfRows h = random_half_rows(DType::F16, rows, cols, 20);
      const int stride = h.stride;
      const std::vector<std::uint16_t>& w = h.bits;
      const WeightRef ref_w = h.ref(DType::F16, rows, cols);
      // A residual stream of a real model's scale (|x| up to ~8), norm weights around 1 - offset.
      auto x = random_floats(static_cast<std::size_t>(8 * cols), 21, -8.0f, 8.0f);
      auto g = random_floats(static_cast<std::size_t>(cols), 22, 0.5f - offset, 1.5f - offset);
      auto bias = random_floats(static_cast<std::size_t>(rows), 23);
      auto y0 = random_floats(static_cast<std::size_t>(8 * rows), 24);
      const float eps = 1e-5f;
      std::vector<float> xn(x.size());
      for (int b = 0; b < 8; ++b) {
        rms_norm(c.ctx, x.data() + b * cols, g.data(), offset, eps, 1, cols, xn.data() + b * cols);
      }
      std::vector<float> normed(static_cast<std::size_t>(8 * rows)), plain(static_cast<std::size_t>(8 * rows));
      matmul(c.ctx, xn.data(), 8, ref_w, nullptr, normed.data());
      matmul(c.ctx, x.data(), 8, ref_w, nullptr, plain.data());
      Device<std::uint16_t> d_w(w);
      Device<float> d_x(x), d_g(g), d_bias(bias);
      for (int batch : {1, 2, 8}) {
        const std::string what = std::to_string(rows) + "x" + std::to_string(cols) + " offset " +
                                 std::to_string(offset) + " batch " + std::to_string(batch);
        HalfMatvecFusion norm;
        norm.norm_weight = d_g.ptr;
        norm.norm_offset = offset;
        norm.norm_eps = eps;
        Device<float> d_y(std::vector<float>(static_cast<std::size_t>(batch * rows), NAN));
        half_matvec(d_w.ptr, DType::F16, rows, cols, stride, d_x.ptr, batch, d_y.ptr, nullptr, norm);
        EXPECT_LT(rel_error(d_y.get(), std::vector<float>(normed.begin(), normed.begin() + batch * rows)), 2e-4)
            << "norm " << what;
        HalfMatvecFusion residual;
        residual.bias = d_bias.ptr;
        residual.accumulate = true;
        Device<float> d_acc(std::vector<float>(y0.begin(), y0.begin() + batch * rows));
        half_matvec(d_w.ptr, DType::F16, rows, cols, stride, d_x.ptr, batch, d_acc.ptr, nullptr, residual);
        std::vector<float> expect(static_cast<std::size_t>(batch * rows));
        for (int b = 0; b < batch; ++b) {
          for (int r = 0; r < rows; ++r) expect[b * rows + r] = y0[b * rows + r] + plain[b * rows + r] + bias[r];
        }
        EXPECT_LT(rel_error(d_acc.get(), expect), 2e-4) << "bias and accumulate " << what;
      }
    }
  }
}

}  // namespace
}  // namespace eaq::kernels::cuda
