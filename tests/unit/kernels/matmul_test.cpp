// matmul against a double-precision reference for every dequantizable weight dtype, odd shapes
// (k not a multiple of any vector width, m = 1, 3, 17, 64), bias, padded rows; and bit-identical
// results across thread counts and between a row computed alone and inside a batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

using test::make_test_weight;
using test::random_floats;
using test::TestWeight;

std::vector<float> run_matmul(int n_threads, const std::vector<float>& x, std::int64_t m,
                              const WeightRef& w, const float* bias) {
  ThreadPool pool(n_threads);
  KernelContext ctx{&pool};
  std::vector<float> y(static_cast<std::size_t>(m * w.rows), std::nanf(""));
  matmul(ctx, x.data(), m, w, bias, y.data());
  return y;
}

// Checks y against sum_k x*w in double; the tolerance scales with sum_k |x*w| (f32 accumulation).
void expect_matches_reference(const std::vector<float>& y, const std::vector<float>& x, std::int64_t m,
                              const TestWeight& w, const float* bias) {
  const std::int64_t n = w.rows, k = w.cols;
  int failures = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = bias ? bias[j] : 0.0, magnitude = bias ? std::abs(bias[j]) : 0.0;
      for (std::int64_t c = 0; c < k; ++c) {
        const double p = static_cast<double>(x[i * k + c]) * w.values[j * k + c];
        sum += p;
        magnitude += std::abs(p);
      }
      const double got = y[i * n + j];
      if (!test::close(got, sum, magnitude, 1e-5, 1e-30) && ++failures < 5) {
        ADD_FAILURE() << dtype_name(w.dtype) << " m=" << m << " n=" << n << " k=" << k << " y[" << i
                      << "][" << j << "] = " << got << ", reference " << sum << " (magnitude "
                      << magnitude << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

struct Shape {
  std::int64_t m, n, k;
};

void check_dtype(DType dtype, const std::vector<Shape>& shapes) {
  std::uint32_t seed = 1;
  for (const Shape& s : shapes) {
    for (bool with_bias : {false, true}) {
      for (std::size_t pad : {std::size_t{0}, std::size_t{6}}) {
        const TestWeight w = make_test_weight(dtype, s.n, s.k, seed++, pad);
        const std::vector<float> x = random_floats(static_cast<std::size_t>(s.m * s.k), seed++);
        const std::vector<float> bias = random_floats(static_cast<std::size_t>(s.n), seed++);
        const float* b = with_bias ? bias.data() : nullptr;
        const std::vector<float> y1 = run_matmul(1, x, s.m, w.ref(), b);
        expect_matches_reference(y1, x, s.m, w, b);
        const std::vector<float> y2 = run_matmul(2, x, s.m, w.ref(), b);
        ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)))
            << dtype_name(dtype) << ": 1 and 2 threads differ at m=" << s.m << " n=" << s.n << " k=" << s.k;
      }
    }
  }
}

const std::vector<Shape> kPlainShapes = {{1, 1, 1},   {1, 5, 7},   {3, 37, 33}, {17, 9, 100},
                                         {64, 13, 515}, {1, 70, 515}, {64, 6, 4100}, {2, 4, 16}};
const std::vector<Shape> kBlock32Shapes = {{1, 5, 32}, {3, 37, 96}, {17, 9, 544}, {64, 11, 160}};
const std::vector<Shape> kBlock256Shapes = {{1, 5, 256}, {3, 7, 768}, {17, 9, 512}, {64, 5, 256}};

TEST(Matmul, F32MatchesReference) {
  test::for_each_simd_target([] { check_dtype(DType::F32, kPlainShapes); });
}
TEST(Matmul, F16MatchesReference) {
  test::for_each_simd_target([] { check_dtype(DType::F16, kPlainShapes); });
}
TEST(Matmul, BF16MatchesReference) {
  test::for_each_simd_target([] { check_dtype(DType::BF16, kPlainShapes); });
}

TEST(Matmul, LegacyBlockDtypesMatchReference) {
  test::for_each_simd_target([] {
    for (DType d : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1}) {
      SCOPED_TRACE(std::string(dtype_name(d)));
      check_dtype(d, kBlock32Shapes);
    }
  });
}

TEST(Matmul, KQuantDtypesMatchReference) {
  for (DType d : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    check_dtype(d, kBlock256Shapes);
  }
}

TEST(Matmul, RowInBatchEqualsRowAlone) {
  test::for_each_simd_target([] {
    for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q4_1}) {
      const std::int64_t m = 17, n = 23, k = dtype == DType::Q4_1 ? 288 : 301;
      const TestWeight w = make_test_weight(dtype, n, k, 7);
      const std::vector<float> x = random_floats(static_cast<std::size_t>(m * k), 8);
      const std::vector<float> batch = run_matmul(2, x, m, w.ref(), nullptr);
      for (std::int64_t i = 0; i < m; ++i) {
        const std::vector<float> row(x.begin() + i * k, x.begin() + (i + 1) * k);
        const std::vector<float> alone = run_matmul(2, row, 1, w.ref(), nullptr);
        ASSERT_EQ(0, std::memcmp(alone.data(), batch.data() + i * n, n * sizeof(float)))
            << dtype_name(dtype) << " row " << i;
      }
    }
  });
}

TEST(Matmul, FastPathIsReportedForFloatAndPackedDtypes) {
  EXPECT_TRUE(cpu_has_fast_path(Op::kMatmul, DType::F32));
  EXPECT_TRUE(cpu_has_fast_path(Op::kMatmul, DType::F16));
  EXPECT_TRUE(cpu_has_fast_path(Op::kMatmul, DType::BF16));
  // q4_1 / q8_0 have packed kernels since issue 5 (kernels/cpu/matmul_packed_cpu.cpp).
  EXPECT_TRUE(cpu_has_fast_path(Op::kMatmul, DType::Q4_1));
  EXPECT_TRUE(cpu_has_fast_path(Op::kMatmul, DType::Q8_0));
  EXPECT_FALSE(cpu_has_fast_path(Op::kMatmul, DType::Q5_0));
  EXPECT_FALSE(cpu_has_fast_path(Op::kMatmul, DType::Q2_K));
}

TEST(Matmul, RejectsBadWeights) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  std::vector<float> x(64), y(64);
  std::vector<std::uint8_t> bytes(1024);
  // 40 columns of q4_0 is not a whole number of 32-element blocks.
  EXPECT_THROW(make_weight_ref(DType::Q4_0, 2, 40, bytes.data()), Error);
  WeightRef short_stride = make_weight_ref(DType::F32, 2, 16, bytes.data());
  short_stride.row_stride_bytes = 32;
  EXPECT_THROW(matmul(ctx, x.data(), 1, short_stride, nullptr, y.data()), Error);
  WeightRef empty = make_weight_ref(DType::F32, 2, 16, bytes.data());
  empty.rows = 0;
  EXPECT_THROW(matmul(ctx, x.data(), 1, empty, nullptr, y.data()), Error);
}

}  // namespace
}  // namespace eaq::kernels
