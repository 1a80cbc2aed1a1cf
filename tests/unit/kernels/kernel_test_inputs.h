// Inputs for the kernel tests: seeded random floats, and weight matrices in every dequantizable
// dtype together with their exact f32 values (what the scalar reference decoders of core/dtype.h
// give), which the double-precision references in the tests multiply against.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/dtype.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_legacy_blocks.h"
#include "hwy/targets.h"
#include "kernels/ops.h"
#include "float_vectors.h"

namespace eaq::kernels::test {

// A rows × cols matrix stored as `dtype` (with `pad_bytes` of junk after each row, to exercise
// row_stride_bytes), plus its decoded f32 values.
struct TestWeight {
  DType dtype;
  std::int64_t rows;
  std::int64_t cols;
  std::size_t row_stride_bytes;
  std::vector<std::uint8_t> bytes;
  std::vector<float> values;  // rows × cols, exactly what the weight decodes to

  WeightRef ref() const { return WeightRef{dtype, rows, cols, bytes.data(), row_stride_bytes}; }
};

// Random bytes for a K-quant row with every f16/f32 scale field set to a small finite value
// (random bits there would give inf/NaN scales, which no real model has).
inline void randomize_k_quant_row(DType dtype, std::uint8_t* row, std::size_t n_blocks, std::mt19937& rng) {
  const std::size_t block_bytes = traits(dtype).block_bytes;
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  for (std::size_t i = 0; i < n_blocks * block_bytes; ++i) row[i] = static_cast<std::uint8_t>(byte(rng));
  for (std::size_t b = 0; b < n_blocks; ++b) {
    std::uint8_t* block = row + b * block_bytes;
    auto put_f16 = [&](std::size_t offset) {
      const std::uint16_t h = f32_to_f16(scale(rng));
      std::memcpy(block + offset, &h, 2);
    };
    switch (dtype) {
      case DType::Q2_K: put_f16(offsetof(block_q2_K, d)); put_f16(offsetof(block_q2_K, dmin)); break;
      case DType::Q3_K: put_f16(offsetof(block_q3_K, d)); break;
      case DType::Q4_K: put_f16(offsetof(block_q4_K, d)); put_f16(offsetof(block_q4_K, dmin)); break;
      case DType::Q5_K: put_f16(offsetof(block_q5_K, d)); put_f16(offsetof(block_q5_K, dmin)); break;
      case DType::Q6_K: put_f16(offsetof(block_q6_K, d)); break;
      case DType::Q8_K: {
        const float d = scale(rng);
        std::memcpy(block + offsetof(block_q8_K, d), &d, 4);
        break;
      }
      default: break;
    }
  }
}

inline TestWeight make_test_weight(DType dtype, std::int64_t rows, std::int64_t cols, std::uint32_t seed,
                                   std::size_t pad_bytes = 0) {
  TestWeight w{dtype, rows, cols, row_bytes(dtype, static_cast<std::size_t>(cols)) + pad_bytes, {}, {}};
  w.bytes.assign(w.row_stride_bytes * static_cast<std::size_t>(rows), 0xA5);
  w.values.resize(static_cast<std::size_t>(rows * cols));
  std::mt19937 rng(seed);
  const std::vector<float> source = random_floats(static_cast<std::size_t>(rows * cols), seed + 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* row = w.bytes.data() + static_cast<std::size_t>(r) * w.row_stride_bytes;
    const float* src = source.data() + r * cols;
    const std::size_t n = static_cast<std::size_t>(cols);
    switch (dtype) {
      case DType::F32: std::memcpy(row, src, n * 4); break;
      case DType::F16:
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint16_t h = f32_to_f16(src[i]);
          std::memcpy(row + 2 * i, &h, 2);
        }
        break;
      case DType::BF16:
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint16_t h = f32_to_bf16(src[i]);
          std::memcpy(row + 2 * i, &h, 2);
        }
        break;
      case DType::Q8_0: quantize_row_q8_0(src, row, n); break;
      case DType::Q4_0: quantize_row_q4_0(src, row, n); break;
      case DType::Q4_1: quantize_row_q4_1(src, row, n); break;
      case DType::Q5_0: quantize_row_q5_0(src, row, n); break;
      case DType::Q5_1: quantize_row_q5_1(src, row, n); break;
      default: randomize_k_quant_row(dtype, row, n / traits(dtype).block_size, rng); break;
    }
    dequantize(dtype, row, w.values.data() + r * cols, n);
  }
  return w;
}

// The SIMD targets to test the kernels on: AVX-512 and AVX2 where this CPU has them and the build
// compiled them (EAQ_CPU_AVX512=OFF leaves AVX-512 out), and the portable fallback (SCALAR or
// EMU128, whichever Highway compiled). Each test runs on every one, so a machine with AVX-512 also
// checks the paths that CPUs without it take.
inline std::vector<std::int64_t> simd_targets() {
  std::vector<std::int64_t> targets;
  for (std::int64_t t : {std::int64_t{HWY_AVX3}, std::int64_t{HWY_AVX2}}) {
    if ((hwy::SupportedTargets() & HWY_TARGETS & t) != 0) targets.push_back(t);
  }
  targets.push_back(HWY_SCALAR | HWY_EMU128);
  return targets;
}

// Restricts runtime dispatch to the given targets for the scope.
class ScopedSimdTarget {
 public:
  explicit ScopedSimdTarget(std::int64_t targets) { hwy::SetSupportedTargetsForTest(targets); }
  ~ScopedSimdTarget() { hwy::SetSupportedTargetsForTest(0); }
  ScopedSimdTarget(const ScopedSimdTarget&) = delete;
  ScopedSimdTarget& operator=(const ScopedSimdTarget&) = delete;
};

// Runs body() once per SIMD target, with the target in failure messages.
template <class Body>
void for_each_simd_target(Body body) {
  for (std::int64_t target : simd_targets()) {
    ScopedSimdTarget scoped(target);
    const std::string name = cpu_simd_target();
    SCOPED_TRACE(testing::Message() << "SIMD target " << name);
    if (target == HWY_AVX3 || target == HWY_AVX2) {
      ASSERT_EQ(name, hwy::TargetName(target)) << "runtime dispatch did not take the requested target";
    }
    body();
  }
}

// Relative-to-magnitude comparison: |actual - expected| <= rel * magnitude + abs.
inline bool close(double actual, double expected, double magnitude, double rel, double abs = 0.0) {
  return std::abs(actual - expected) <= rel * magnitude + abs;
}

}  // namespace eaq::kernels::test
