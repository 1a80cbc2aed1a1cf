// Tests of the dtype traits table, the GGUF block structs' sizes, the scalar decoders on blocks
// built by hand from the ggml-common.h layouts, and the legacy quantizers' error bounds. Bit
// exactness against the gguf package is checked live by tests/reference/test_gguf_dequant.py.
#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_legacy_blocks.h"

namespace eaq {
namespace {

TEST(DTypeTest, TraitsNamesRoundTripAndBlockSizesMatchStructs) {
  for (std::size_t i = 0; i < static_cast<std::size_t>(DType::kCount); ++i) {
    const auto dtype = static_cast<DType>(i);
    const DTypeTraits& t = traits(dtype);
    EXPECT_EQ(t.dtype, dtype);
    ASSERT_FALSE(t.name.empty());
    EXPECT_EQ(dtype_from_name(t.name), dtype) << t.name;
    EXPECT_NE(t.dequantize_row, nullptr) << t.name;
  }
  EXPECT_FALSE(dtype_from_name("q4_2").has_value());
  EXPECT_EQ(traits(DType::Q8_0).block_bytes, sizeof(block_q8_0));
  EXPECT_EQ(traits(DType::Q4_0).block_bytes, sizeof(block_q4_0));
  EXPECT_EQ(traits(DType::Q4_1).block_bytes, sizeof(block_q4_1));
  EXPECT_EQ(traits(DType::Q5_0).block_bytes, sizeof(block_q5_0));
  EXPECT_EQ(traits(DType::Q5_1).block_bytes, sizeof(block_q5_1));
  EXPECT_EQ(traits(DType::Q2_K).block_bytes, sizeof(block_q2_K));
  EXPECT_EQ(traits(DType::Q3_K).block_bytes, sizeof(block_q3_K));
  EXPECT_EQ(traits(DType::Q4_K).block_bytes, sizeof(block_q4_K));
  EXPECT_EQ(traits(DType::Q5_K).block_bytes, sizeof(block_q5_K));
  EXPECT_EQ(traits(DType::Q6_K).block_bytes, sizeof(block_q6_K));
  EXPECT_EQ(traits(DType::Q8_K).block_bytes, sizeof(block_q8_K));
  EXPECT_EQ(traits(DType::Q4_K).block_size, 256u);
  EXPECT_EQ(traits(DType::Q8_0).block_size, 32u);
  EXPECT_DOUBLE_EQ(bits_per_weight(DType::Q4_0), 4.5);
  EXPECT_DOUBLE_EQ(bits_per_weight(DType::Q4_K), 4.5);
  EXPECT_DOUBLE_EQ(bits_per_weight(DType::Q6_K), 6.5625);
  EXPECT_DOUBLE_EQ(bits_per_weight(DType::BF16), 16.0);
}

TEST(DTypeTest, RowBytesAndDequantizeRejectPartialBlocks) {
  EXPECT_EQ(row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(DType::F16, 7), 14u);
  EXPECT_THROW(row_bytes(DType::Q8_0, 33), Error);
  std::vector<std::uint8_t> block(sizeof(block_q4_K));
  std::vector<float> out(256);
  EXPECT_THROW(dequantize(DType::Q4_K, block.data(), out.data(), 100), Error);
}

TEST(DTypeTest, DequantizeLegacyBlocksBuiltByHand) {
  std::vector<float> y(32);
  block_q4_0 q4_0{};
  q4_0.d = f32_to_f16(0.5f);
  q4_0.qs[0] = 0x2f;  // element 0: 15 - 8 = 7, element 16: 2 - 8 = -6
  q4_0.qs[15] = 0x80;  // element 15: -8, element 31: 0
  dequantize(DType::Q4_0, &q4_0, y.data(), 32);
  EXPECT_EQ(y[0], 3.5f);
  EXPECT_EQ(y[16], -3.0f);
  EXPECT_EQ(y[15], -4.0f);
  EXPECT_EQ(y[31], 0.0f);
  EXPECT_EQ(y[1], -4.0f);  // nibble 0 → -8 * 0.5

  block_q4_1 q4_1{};
  q4_1.d = f32_to_f16(2.0f);
  q4_1.m = f32_to_f16(-1.0f);
  q4_1.qs[3] = 0x51;  // element 3: 1, element 19: 5
  dequantize(DType::Q4_1, &q4_1, y.data(), 32);
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_EQ(y[19], 9.0f);
  EXPECT_EQ(y[0], -1.0f);

  block_q5_0 q5_0{};
  q5_0.d = f32_to_f16(1.0f);
  const std::uint32_t qh = (1u << 2) | (1u << 20);  // fifth bit of elements 2 and 20
  std::memcpy(q5_0.qh, &qh, 4);
  q5_0.qs[2] = 0x0f;  // element 2: 0x1f - 16 = 15; element 18: 0 - 16
  q5_0.qs[4] = 0x30;  // element 20: (0x3 | 0x10) - 16 = 3
  dequantize(DType::Q5_0, &q5_0, y.data(), 32);
  EXPECT_EQ(y[2], 15.0f);
  EXPECT_EQ(y[18], -16.0f);
  EXPECT_EQ(y[20], 3.0f);

  block_q5_1 q5_1{};
  q5_1.d = f32_to_f16(0.25f);
  q5_1.m = f32_to_f16(10.0f);
  std::memcpy(q5_1.qh, &qh, 4);
  q5_1.qs[2] = 0x01;
  dequantize(DType::Q5_1, &q5_1, y.data(), 32);
  EXPECT_EQ(y[2], 10.0f + 17 * 0.25f);
  EXPECT_EQ(y[18], 10.0f);

  block_q8_0 q8_0{};
  q8_0.d = f32_to_f16(0.125f);
  q8_0.qs[5] = -128;
  q8_0.qs[6] = 127;
  dequantize(DType::Q8_0, &q8_0, y.data(), 32);
  EXPECT_EQ(y[5], -16.0f);
  EXPECT_EQ(y[6], 15.875f);
}

TEST(DTypeTest, DequantizeKQuantBlocksBuiltByHand) {
  std::vector<float> y(256);

  block_q2_K q2{};
  q2.d = f32_to_f16(1.0f);
  q2.dmin = f32_to_f16(0.5f);
  q2.scales[0] = 0x23;  // sub-block 0 (elements 0..15): scale 3, min 2
  q2.scales[1] = 0x05;  // sub-block 1 (elements 16..31): scale 5, min 0
  q2.qs[0] = 0x02 | (0x01 << 2);   // element 0: q 2; element 32 (shift 2, sub-block 2): q 1
  q2.qs[16] = 0x03;                // element 16: q 3
  q2.scales[2] = 0x01;
  dequantize(DType::Q2_K, &q2, y.data(), 256);
  EXPECT_EQ(y[0], 3.0f * 2 - 1.0f);
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[16], 15.0f);
  EXPECT_EQ(y[32], 1.0f);

  block_q3_K q3{};
  q3.d = f32_to_f16(2.0f);
  // Scale of sub-block 0 = (low 4 bits of byte 0 | 2 high bits of byte 8) - 32 = (1 | 2 << 4) - 32.
  q3.scales[0] = 0x01;
  q3.scales[8] = 0x02;
  q3.qs[0] = 0x03;     // element 0: 2 low bits 3
  q3.hmask[0] = 0x01;  // high bit set: no -4
  q3.qs[1] = 0x01;     // element 1: 1, high bit clear: 1 - 4
  dequantize(DType::Q3_K, &q3, y.data(), 256);
  EXPECT_EQ(y[0], 2.0f * (33 - 32) * 3);
  EXPECT_EQ(y[1], 2.0f * (33 - 32) * -3);
  EXPECT_EQ(y[16], 2.0f * (0 - 32) * -4);  // sub-block 1: scale byte 1 = 0, all bits clear

  block_q4_K q4{};
  q4.d = f32_to_f16(1.0f);
  q4.dmin = f32_to_f16(0.25f);
  q4.scales[0] = 3;                 // sub-block 0 scale
  q4.scales[4] = 8;                 // sub-block 0 min
  q4.scales[8] = 0x21;              // sub-block 4: scale low 1, min low 2
  q4.scales[0] |= 0x40;             // sub-block 4: scale high bits 01 → 1 | 16 = 17
  q4.qs[0] = 0x5a;                  // element 0: 10 (sub-block 0); element 32: 5 (sub-block 1)
  q4.qs[64] = 0x07;                 // element 128 (sub-block 4): 7
  dequantize(DType::Q4_K, &q4, y.data(), 256);
  EXPECT_EQ(y[0], 3.0f * 10 - 2.0f);
  EXPECT_EQ(y[32], 0.0f);  // sub-block 1 has scale 0, min 0
  EXPECT_EQ(y[128], 17.0f * 7 - 0.25f * 2);

  block_q5_K q5{};
  q5.d = f32_to_f16(0.5f);
  q5.dmin = f32_to_f16(1.0f);
  q5.scales[1] = 2;        // sub-block 1 scale
  q5.scales[5] = 1;        // sub-block 1 min
  q5.qs[0] = 0x30;         // element 32: low 4 bits 3
  q5.qh[0] = 0x02;         // element 32: fifth bit (bit 1 of qh[0])
  dequantize(DType::Q5_K, &q5, y.data(), 256);
  EXPECT_EQ(y[32], 0.5f * 2 * 19 - 1.0f);

  block_q6_K q6{};
  q6.d = f32_to_f16(0.5f);
  q6.scales[0] = -3;
  q6.scales[2] = 4;            // elements 32..47
  q6.ql[0] = 0x0f;             // element 0 low 4 bits: 15
  q6.qh[0] = 0x01 | (0x2 << 2);  // element 0 high bits 1; element 32 high bits 2
  q6.ql[32] = 0x01;            // element 32 low bits 1
  dequantize(DType::Q6_K, &q6, y.data(), 256);
  EXPECT_EQ(y[0], 0.5f * -3 * ((15 | 16) - 32));
  EXPECT_EQ(y[32], 0.5f * 4 * ((1 | 32) - 32));
  EXPECT_EQ(y[1], 0.5f * -3 * -32);

  block_q8_K q8{};
  q8.d = 0.01f;
  q8.qs[255] = -7;
  dequantize(DType::Q8_K, &q8, y.data(), 256);
  EXPECT_EQ(y[255], 0.01f * -7.0f);
}

// Quantize → dequantize stays within a quantization step of the input (per block).
TEST(DTypeTest, LegacyQuantizersRoundTripWithinAStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(32 * 64);
  for (auto& v : x) v = normal(rng);
  struct Case {
    DType dtype;
    void (*quantize)(const float*, void*, std::size_t);
    float steps;  // number of quantization steps across the block's range
  };
  for (const Case& c : {Case{DType::Q8_0, quantize_row_q8_0, 254}, Case{DType::Q4_0, quantize_row_q4_0, 16},
                        Case{DType::Q4_1, quantize_row_q4_1, 15}, Case{DType::Q5_0, quantize_row_q5_0, 32},
                        Case{DType::Q5_1, quantize_row_q5_1, 31}}) {
    std::vector<std::uint8_t> q(row_bytes(c.dtype, x.size()));
    std::vector<float> y(x.size());
    c.quantize(x.data(), q.data(), x.size());
    dequantize(c.dtype, q.data(), y.data(), x.size());
    for (std::size_t b = 0; b < x.size() / 32; ++b) {
      float lo = x[b * 32], hi = x[b * 32];
      for (int j = 0; j < 32; ++j) {
        lo = std::min(lo, x[b * 32 + j]);
        hi = std::max(hi, x[b * 32 + j]);
      }
      const float range = c.dtype == DType::Q4_1 || c.dtype == DType::Q5_1
                              ? hi - lo
                              : 2 * std::max(std::fabs(lo), std::fabs(hi));
      // Half a step, except q4_0/q5_0 whose top code is clamped: a value of the opposite sign
      // to the block's extreme can lose a whole step. Plus the f16 rounding of d and m.
      const bool clamped = c.dtype == DType::Q4_0 || c.dtype == DType::Q5_0;
      const float tolerance = range / c.steps * (clamped ? 1.0f : 0.5f) * 1.01f +
                              2e-3f * (range + std::max(std::fabs(lo), std::fabs(hi)));
      for (int j = 0; j < 32; ++j) {
        ASSERT_NEAR(y[b * 32 + j], x[b * 32 + j], tolerance)
            << dtype_name(c.dtype) << " block " << b << " element " << j;
      }
    }
  }
}

TEST(DTypeTest, QuantizersRejectBadInput) {
  std::vector<float> x(32, 1.0f);
  std::vector<std::uint8_t> q(64);
  EXPECT_THROW(quantize_row_q8_0(x.data(), q.data(), 31), Error);
  x[3] = NAN;
  EXPECT_THROW(quantize_row_q4_0(x.data(), q.data(), 32), Error);
  x[3] = INFINITY;
  EXPECT_THROW(quantize_row_q4_1(x.data(), q.data(), 32), Error);
  // A zero block gives d = 0 / -8 = -0 (f16 0x8000) and codes at the zero point, as the
  // references do.
  std::vector<float> zeros(32, 0.0f);
  block_q4_0 b{};
  quantize_row_q4_0(zeros.data(), &b, 32);
  EXPECT_EQ(b.d, 0x8000);
  for (auto byte : b.qs) EXPECT_EQ(byte, 0x88);
}

}  // namespace
}  // namespace eaq
