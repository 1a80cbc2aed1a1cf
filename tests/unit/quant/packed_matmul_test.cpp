// The packed-weight CPU kernels (kernels/cpu/matmul_packed_cpu.cpp) against a double-precision
// product with the weights decoded by the scalar reference decoders (core/dtype.h): for every
// packed format, on every SIMD target this CPU has (AVX-512, AVX2, the portable fallback), odd
// shapes, bias and padded rows; bit-identical across thread counts and between a row computed
// alone and in a batch. int8-dyn against the exact integer product of its quantized operands.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "../kernels/kernel_test_inputs.h"
#include "core/dtype.h"
#include "kernels/cpu/matmul_packed_cpu.h"
#include "kernels/ops.h"
#include "quant/scheme_registry.h"

namespace eaq::quant {
namespace {

using kernels::test::random_floats;
using kernels::test::TestWeight;

TestWeight make_weight(DType dtype, std::int64_t rows, std::int64_t cols, std::uint32_t seed, std::size_t pad) {
  if (!can_quantize_to(dtype)) return kernels::test::make_test_weight(dtype, rows, cols, seed, pad);  // q4_K, q6_K
  TestWeight w{dtype, rows, cols, row_bytes(dtype, static_cast<std::size_t>(cols)) + pad, {}, {}};
  w.bytes.assign(w.row_stride_bytes * static_cast<std::size_t>(rows), 0xA5);
  w.values.resize(static_cast<std::size_t>(rows * cols));
  const std::vector<float> source = random_floats(static_cast<std::size_t>(rows * cols), seed);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* row = w.bytes.data() + static_cast<std::size_t>(r) * w.row_stride_bytes;
    quantize_row(dtype, source.data() + r * cols, row, static_cast<std::size_t>(cols));
    dequantize(dtype, row, w.values.data() + r * cols, static_cast<std::size_t>(cols));
  }
  return w;
}

std::vector<float> run(int threads, const std::vector<float>& x, std::int64_t m, const kernels::WeightRef& w,
                       const float* bias) {
  ThreadPool pool(threads);
  kernels::KernelContext ctx{&pool};
  std::vector<float> y(static_cast<std::size_t>(m * w.rows), std::nanf(""));
  kernels::matmul(ctx, x.data(), m, w, bias, y.data());
  return y;
}

// The reference: Σ x · w in double; int8-dyn: Σ q(x) · q(w) exactly, times both scales.
double reference(const TestWeight& w, const std::vector<float>& x, std::int64_t i, std::int64_t j, double* magnitude) {
  const std::int64_t k = w.cols;
  double sum = 0.0;
  *magnitude = 0.0;
  if (w.dtype == DType::I8_CH_DYN) {
    std::vector<std::int8_t> xq(static_cast<std::size_t>(k));
    float sx;
    kernels::cpu::quantize_activations_int8(x.data() + i * k, static_cast<std::size_t>(k), xq.data(), &sx);
    const std::uint8_t* row = w.bytes.data() + j * w.row_stride_bytes;
    float sw;
    std::memcpy(&sw, row, 4);
    std::int64_t dot = 0;
    for (std::int64_t c = 0; c < k; ++c) dot += static_cast<std::int64_t>(xq[c]) * static_cast<std::int8_t>(row[4 + c]);
    *magnitude = std::fabs(static_cast<double>(dot) * sx * sw);
    return static_cast<double>(dot) * (static_cast<double>(sx) * sw);
  }
  for (std::int64_t c = 0; c < k; ++c) {
    const double p = static_cast<double>(x[i * k + c]) * w.values[j * k + c];
    sum += p;
    *magnitude += std::fabs(p);
  }
  return sum;
}

struct Shape {
  std::int64_t m, n, k;
};

void check(DType dtype, const std::vector<Shape>& shapes) {
  std::uint32_t seed = 11;
  for (const Shape& s : shapes) {
    // Padded rows (row_stride_bytes > row_bytes) by 8 bytes: the blocks keep their natural
    // alignment (their f16/f32 scale fields; GGUF rows always do), which the block structs of
    // the scalar quantizers and decoders rely on (UBSan checks it).
    for (std::size_t pad : {std::size_t{0}, std::size_t{8}}) {
      const TestWeight w = make_weight(dtype, s.n, s.k, seed++, pad);
      const std::vector<float> x = random_floats(static_cast<std::size_t>(s.m * s.k), seed++);
      const std::vector<float> bias = random_floats(static_cast<std::size_t>(s.n), seed++);
      const std::vector<float> y1 = run(1, x, s.m, w.ref(), bias.data());
      int failures = 0;
      for (std::int64_t i = 0; i < s.m; ++i) {
        for (std::int64_t j = 0; j < s.n; ++j) {
          double magnitude;
          const double want = reference(w, x, i, j, &magnitude) + bias[j];
          const double got = y1[i * s.n + j];
          if (!kernels::test::close(got, want, magnitude + std::fabs(bias[j]), 2e-6, 1e-30) && ++failures < 4) {
            ADD_FAILURE() << dtype_name(dtype) << " m=" << s.m << " n=" << s.n << " k=" << s.k << " y[" << i << "]["
                          << j << "] = " << got << ", reference " << want;
          }
        }
      }
      const std::vector<float> y2 = run(2, x, s.m, w.ref(), bias.data());
      ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4)) << dtype_name(dtype) << ": 1 vs 2 threads";
      // Row 0 alone equals row 0 of the batch, bit for bit.
      const std::vector<float> x0(x.begin(), x.begin() + s.k);
      const std::vector<float> alone = run(2, x0, 1, w.ref(), bias.data());
      ASSERT_EQ(0, std::memcmp(alone.data(), y1.data(), static_cast<std::size_t>(s.n) * 4))
          << dtype_name(dtype) << ": row alone vs in batch, m=" << s.m << " n=" << s.n << " k=" << s.k << " pad=" << pad 
          << " first differing output: " << [&] {
               std::int64_t j = 0;
               while (j + 1 < s.n && alone[j] == y1[j]) ++j;
               return j;
             }();
    }
  }
}

const std::vector<Shape> kShapes128 = {{1, 7, 128}, {3, 9, 384}, {6, 5, 256}, {9, 13, 640}};
const std::vector<Shape> kShapes256 = {{1, 5, 256}, {5, 7, 512}, {9, 3, 768}};
const std::vector<Shape> kShapesAnyK = {{1, 7, 33}, {4, 9, 100}, {9, 5, 515}, {1, 3, 1}};

TEST(PackedMatmul, BlockFormatsMatchTheScalarDecoders) {
  kernels::test::for_each_simd_target([] {
    for (DType d : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::I4S_G32, DType::I4S_G64, DType::I4S_G128,
                    DType::I4Z_G32, DType::I4Z_G64, DType::I4Z_G128, DType::NF4}) {
      SCOPED_TRACE(std::string(dtype_name(d)));
      check(d, kShapes128);
    }
  });
}

TEST(PackedMatmul, KQuantsMatchTheScalarDecoders) {
  kernels::test::for_each_simd_target([] {
    for (DType d : {DType::Q4_K, DType::Q6_K}) {
      SCOPED_TRACE(std::string(dtype_name(d)));
      check(d, kShapes256);
    }
  });
}

TEST(PackedMatmul, PerChannelFormatsMatchForAnyRowLength) {
  kernels::test::for_each_simd_target([] {
    for (DType d : {DType::I8_CH, DType::F8_E4M3_CH, DType::I8_CH_DYN}) {
      SCOPED_TRACE(std::string(dtype_name(d)));
      check(d, kShapesAnyK);
    }
  });
}

TEST(PackedMatmul, PackedFormatsReportAFastPath) {
  for (DType d : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q4_K, DType::Q6_K, DType::NF4, DType::I8_CH,
                  DType::I8_CH_DYN, DType::F8_E4M3_CH, DType::I4S_G32, DType::I4Z_G128}) {
    EXPECT_TRUE(kernels::cpu_has_fast_path(kernels::Op::kMatmul, d)) << dtype_name(d);
  }
  EXPECT_FALSE(kernels::cpu_has_fast_path(kernels::Op::kMatmul, DType::Q5_0));
}

}  // namespace
}  // namespace eaq::quant
