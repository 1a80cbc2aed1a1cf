// Every scheme's pack → unpack error stays within its stated bound (quant/scheme_registry.h) on
// random rows and adversarial ones (zeros, one outlier, denormals, constants, huge values), and
// NaN / infinite weights are rejected with an error naming the element.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/dequantize_rows.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/scheme_registry.h"
#include "quant/weight_quantizers.h"

namespace eaq::quant {
namespace {

constexpr std::size_t kCols = 256;

std::vector<std::vector<float>> test_rows() {
  std::vector<std::vector<float>> rows;
  std::mt19937 rng(42);
  for (float sigma : {1e-3f, 0.02f, 1.0f, 300.0f}) {
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> r(kCols);
    for (auto& v : r) v = dist(rng);
    rows.push_back(r);
  }
  rows.push_back(std::vector<float>(kCols, 0.0f));                       // zeros
  std::vector<float> outlier(kCols, 1e-3f);                              // one outlier in tiny values
  for (std::size_t i = 0; i < kCols; ++i) outlier[i] = (i % 2 ? 1e-3f : -1e-3f) * (1 + i % 7);
  outlier[37] = 1e4f;
  rows.push_back(outlier);
  std::vector<float> denormal(kCols);                                    // denormals (and a zero)
  for (std::size_t i = 0; i < kCols; ++i) denormal[i] = (i % 3 == 0 ? -1.0f : 1.0f) * 1e-40f * static_cast<float>(i);
  rows.push_back(denormal);
  rows.push_back(std::vector<float>(kCols, 0.75f));                      // constant, positive
  rows.push_back(std::vector<float>(kCols, -3.0f));                      // constant, negative
  std::vector<float> uniform(kCols);                                     // all positive (zero-point)
  std::uniform_real_distribution<float> u(5.0f, 6.0f);
  for (auto& v : uniform) v = u(rng);
  rows.push_back(uniform);
  std::vector<float> ramp(kCols);                                        // exact ties of rounding
  for (std::size_t i = 0; i < kCols; ++i) ramp[i] = static_cast<float>(static_cast<int>(i) - 128) / 8.0f;
  rows.push_back(ramp);
  return rows;
}

void check_bound(DType dtype, const std::vector<float>& row, const std::string& label) {
  std::vector<std::uint8_t> packed(row_bytes(dtype, row.size()));
  quantize_row(dtype, row.data(), packed.data(), row.size());
  std::vector<float> back(row.size());
  dequantize(dtype, packed.data(), back.data(), row.size());
  int failures = 0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const double err = std::fabs(static_cast<double>(back[i]) - row[i]);
    const double bound = quantization_error_bound(dtype, row.data(), row.size(), i);
    ASSERT_TRUE(std::isfinite(back[i])) << dtype_name(dtype) << " " << label << " [" << i << "]";
    if (!(err <= bound) && ++failures < 4) {
      ADD_FAILURE() << dtype_name(dtype) << " " << label << " [" << i << "]: w = " << row[i] << ", got "
                    << back[i] << ", error " << err << " > bound " << bound;
    }
  }
}

TEST(SchemeRoundTrip, EveryDtypeWithinItsStatedBound) {
  const auto rows = test_rows();
  for (const auto& scheme : schemes()) {
    for (DType dtype : {scheme.matrix_dtype, scheme.embedding_dtype}) {
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (dtype == DType::F16 && r == 5) continue;  // the 1e4 outlier is fine; see the range test below
        check_bound(dtype, rows[r], std::string(scheme.name) + " row " + std::to_string(r));
      }
    }
  }
}

TEST(SchemeRoundTrip, ZerosStayExactlyZero) {
  const std::vector<float> zeros(kCols, 0.0f);
  for (const auto& scheme : schemes()) {
    std::vector<std::uint8_t> packed(row_bytes(scheme.matrix_dtype, kCols));
    quantize_row(scheme.matrix_dtype, zeros.data(), packed.data(), kCols);
    std::vector<float> back(kCols, 1.0f);
    dequantize(scheme.matrix_dtype, packed.data(), back.data(), kCols);
    for (float v : back) ASSERT_EQ(v, 0.0f) << scheme.name;
  }
}

TEST(SchemeRoundTrip, NanAndInfAreRejectedWithTheElement) {
  for (const auto& scheme : schemes()) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
      std::vector<float> row(kCols, 0.5f);
      row[77] = bad;
      std::vector<std::uint8_t> packed(row_bytes(scheme.matrix_dtype, kCols));
      try {
        quantize_row(scheme.matrix_dtype, row.data(), packed.data(), kCols);
        ADD_FAILURE() << scheme.name << " accepted " << bad;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("77"), std::string::npos) << scheme.name << ": " << e.what();
      }
    }
  }
}

TEST(SchemeRoundTrip, Fp16RejectsValuesOutsideItsRange) {
  std::vector<float> row(kCols, 1.0f);
  row[3] = 1e5f;
  std::vector<std::uint8_t> packed(row_bytes(DType::F16, kCols));
  EXPECT_THROW(quantize_row(DType::F16, row.data(), packed.data(), kCols), Error);
}

TEST(SchemeRoundTrip, RowLengthMustFitTheBlock) {
  std::vector<float> row(48, 1.0f);
  std::vector<std::uint8_t> packed(1024);
  EXPECT_THROW(quantize_row(DType::I4S_G64, row.data(), packed.data(), 48), Error);
  EXPECT_THROW(quantize_row(DType::NF4, row.data(), packed.data(), 48), Error);
  EXPECT_EQ(fit_block_size(DType::I4S_G128, 576), DType::I4S_G64);
  EXPECT_EQ(fit_block_size(DType::I4Z_G128, 96), DType::I4Z_G32);
  EXPECT_EQ(fit_block_size(DType::NF4, 96), std::nullopt);
}

TEST(SchemeRoundTrip, Fp8EncoderMatchesTheDecoderOnEveryCode) {
  // Every finite e4m3 value encodes back to its own code (both signs, subnormals included).
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7F) == 0x7F) continue;  // NaN
    const float v = f8e4m3_to_f32(static_cast<std::uint8_t>(code));
    const std::uint8_t back = f32_to_f8e4m3(v);
    if (v == 0.0f) {
      EXPECT_EQ(back & 0x7F, 0);
    } else {
      EXPECT_EQ(back, code) << v;
    }
  }
}

TEST(SchemeRoundTrip, DequantizeRowsDecodesEachRowWithItsOwnHeader) {
  // Per-channel formats keep each row's scale in front of it: three rows, three scales.
  const std::size_t rows = 3, cols = 40;
  std::vector<float> w(rows * cols);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % cols) * static_cast<float>(1 + i / cols);
  for (DType d : {DType::I8_CH, DType::F8_E4M3_CH, DType::Q8_0}) {
    if (cols % traits(d).block_size != 0) continue;
    const std::size_t stride = row_bytes(d, cols);
    std::vector<std::uint8_t> packed(stride * rows);
    for (std::size_t r = 0; r < rows; ++r) quantize_row(d, w.data() + r * cols, packed.data() + r * stride, cols);
    std::vector<float> all(rows * cols), one(cols);
    dequantize_rows(d, packed.data(), all.data(), rows, cols);
    for (std::size_t r = 0; r < rows; ++r) {
      dequantize(d, packed.data() + r * stride, one.data(), cols);
      for (std::size_t c = 0; c < cols; ++c) ASSERT_EQ(all[r * cols + c], one[c]) << dtype_name(d) << " row " << r;
    }
  }
}

}  // namespace
}  // namespace eaq::quant
