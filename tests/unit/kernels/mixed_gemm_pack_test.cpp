// The mixed-input prefill GEMM's host form (kernels/cuda/mixed_input_gemm_pack.h) against the
// CPU's dequantize() of the same packed rows: every value of the repacked weight, read back as the
// GEMM reads it (int4: the nibble sign-extended times its f16 group scale; int8: the code times
// the row's f32 scale), equals the dequantized value exactly, for row strides past a row; and the
// formats and shapes it does not take are refused with an error naming them.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "kernels/cuda/mixed_input_gemm_pack.h"

namespace eaq::kernels::cuda {
namespace {

// W[r][k] as the GEMM reads the host form.
float packed_value(const MixedGemmHostWeight& w, std::int64_t r, std::int64_t k) {
  const std::size_t rows = static_cast<std::size_t>(w.rows), cols = static_cast<std::size_t>(w.cols);
  if (w.dtype == DType::I8_CH) {
    float scale;
    std::memcpy(&scale, w.scales.data() + static_cast<std::size_t>(r) * 4, 4);
    return static_cast<float>(static_cast<std::int8_t>(w.codes[static_cast<std::size_t>(r) * cols + k])) * scale;
  }
  const std::size_t at = static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(k);
  const int nibble = (w.codes[at / 2] >> (4 * (at % 2))) & 0xF;
  const int code = nibble >= 8 ? nibble - 16 : nibble;  // two's complement
  std::uint16_t scale_bits;
  std::memcpy(&scale_bits, w.scales.data() + (static_cast<std::size_t>(k / w.group) * rows + r) * 2, 2);
  return static_cast<float>(code) * f16_to_f32(scale_bits);
}

TEST(MixedGemmPack, EveryValueEqualsTheCpuDequantization) {
  struct Case {
    DType dtype;
    std::int64_t rows, cols;
    int group;
  };
  for (const Case c : {Case{DType::I4S_G128, 128, 256, 128}, Case{DType::I4S_G64, 128, 768, 64},
                       Case{DType::I8_CH, 256, 256, 256}}) {
    SCOPED_TRACE(std::string(dtype_name(c.dtype)));
    const std::size_t stride = row_bytes(c.dtype, static_cast<std::size_t>(c.cols)) + 24;  // junk past each row
    const std::vector<std::uint8_t> host = random_packed_weight(c.dtype, c.rows, c.cols, stride, 3);
    const MixedGemmHostWeight w = pack_for_mixed_gemm(WeightRef{c.dtype, c.rows, c.cols, host.data(), stride});
    EXPECT_EQ(w.group, c.group);
    ASSERT_EQ(w.codes.size(), static_cast<std::size_t>(c.rows * c.cols) / (c.dtype == DType::I8_CH ? 1 : 2));
    std::vector<float> row(static_cast<std::size_t>(c.cols));
    int mismatches = 0;
    for (std::int64_t r = 0; r < c.rows; ++r) {
      dequantize(c.dtype, host.data() + static_cast<std::size_t>(r) * stride, row.data(), row.size());
      for (std::int64_t k = 0; k < c.cols; ++k) mismatches += packed_value(w, r, k) != row[static_cast<std::size_t>(k)];
    }
    EXPECT_EQ(mismatches, 0);
  }
}

TEST(MixedGemmPack, RefusesFormatsAndShapesItDoesNotTake) {
  EXPECT_TRUE(mixed_gemm_takes(DType::I4S_G128, 4096, 4096));
  EXPECT_FALSE(mixed_gemm_takes(DType::I4S_G32, 4096, 4096));  // groups under the 64-wide K tile
  EXPECT_FALSE(mixed_gemm_takes(DType::Q4_0, 4096, 4096));
  EXPECT_FALSE(mixed_gemm_takes(DType::NF4, 4096, 4096));
  EXPECT_FALSE(mixed_gemm_takes(DType::I4S_G128, 144, 4096));  // rows not a multiple of 128
  EXPECT_FALSE(mixed_gemm_takes(DType::I4S_G64, 4096, 4032));   // cols not a multiple of 128
  EXPECT_TRUE(mixed_gemm_takes(DType::I4S_G128, 2048, 5504));   // cols an odd multiple of 128 (43 x 128)
  EXPECT_TRUE(mixed_gemm_takes(DType::I8_CH, 4096, 11008));     // cols 43 x 256
  const std::vector<std::uint8_t> host(row_bytes(DType::I4S_G32, 128) * 128);
  try {
    pack_for_mixed_gemm(WeightRef{DType::I4S_G32, 128, 128, host.data(), row_bytes(DType::I4S_G32, 128)});
    FAIL() << "an i4s_g32 weight was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("i4s_g32"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("128 x 128"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eaq::kernels::cuda
