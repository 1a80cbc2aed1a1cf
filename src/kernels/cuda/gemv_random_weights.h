// Random packed weights for the GEMV reference check and benchmark (tests/unit/kernels/
// gemv_cuda_test.cpp, benchmarks/cuda/bench_gemv.cu): random code bytes with every scale field set to
// a small finite value of a realistic size, in the host layout of core/quant_blocks.h and
// core/eaq_quant_blocks.h. Random codes exercise every nibble/byte value (a quantizer's output would
// not be more thorough) and need no quantizer pass over 100M+ weights. Host code only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/eaq_quant_blocks.h"
#include "core/half.h"
#include "core/quant_blocks.h"

namespace eaq::kernels::cuda {

// xorshift64*: fast enough for 260 MB of weights.
class GemvRng {
 public:
  explicit GemvRng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  float uniform(float lo, float hi) {  // [lo, hi)
    return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
  }

 private:
  std::uint64_t state_;
};

// rows × row_stride_bytes bytes of `dtype` (row_stride_bytes >= row_bytes(dtype, cols); the bytes
// past a row are filled with junk, to check that strides are respected).
inline std::vector<std::uint8_t> random_packed_weight(DType dtype, std::int64_t rows, std::int64_t cols,
                                                      std::size_t row_stride_bytes, std::uint64_t seed) {
  std::vector<std::uint8_t> bytes(row_stride_bytes * static_cast<std::size_t>(rows));
  GemvRng rng(seed);
  // Random bytes first (8 at a time), then the fields that must be finite are overwritten.
  for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    const std::uint64_t v = rng.next();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  for (std::size_t i = bytes.size() / 8 * 8; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(rng.next());

  const auto& t = traits(dtype);
  const std::size_t n_blocks = static_cast<std::size_t>(cols) / t.block_size;
  auto put_f16 = [](std::uint8_t* at, float v) {
    const std::uint16_t h = f32_to_f16(v);
    std::memcpy(at, &h, 2);
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* row = bytes.data() + static_cast<std::size_t>(r) * row_stride_bytes;
    switch (dtype) {
      case DType::F16:
        for (std::int64_t i = 0; i < cols; ++i) put_f16(row + 2 * i, rng.uniform(-1.0f, 1.0f));
        break;
      case DType::BF16:
        for (std::int64_t i = 0; i < cols; ++i) {
          const std::uint16_t h = f32_to_bf16(rng.uniform(-1.0f, 1.0f));
          std::memcpy(row + 2 * i, &h, 2);
        }
        break;
      case DType::I8_CH:
      case DType::I8_CH_DYN:
      case DType::F8_E4M3_CH: {
        const float scale = rng.uniform(0.002f, 0.02f);
        std::memcpy(row, &scale, 4);
        if (dtype == DType::F8_E4M3_CH) {  // 0x7f / 0xff are e4m3's NaN: no real weight is NaN
          for (std::int64_t i = 0; i < cols; ++i) {
            std::uint8_t& c = row[kChannelRowHeaderBytes + i];
            if ((c & 0x7f) == 0x7f) c = static_cast<std::uint8_t>(c - 1);
          }
        }
        break;
      }
      case DType::Q8_0:
      case DType::Q4_0:
      case DType::I4S_G32:
      case DType::I4S_G64:
      case DType::I4S_G128:  // the f16 scale is the block's first two bytes in all of these
        for (std::size_t b = 0; b < n_blocks; ++b) put_f16(row + b * t.block_bytes, rng.uniform(-0.02f, 0.02f));
        break;
      case DType::NF4:
        for (std::size_t b = 0; b < n_blocks; ++b) {
          const float absmax = rng.uniform(0.01f, 0.1f);
          std::memcpy(row + b * t.block_bytes + offsetof(block_nf4, absmax), &absmax, 4);
        }
        break;
      case DType::Q4_K:
        for (std::size_t b = 0; b < n_blocks; ++b) {
          put_f16(row + b * t.block_bytes + offsetof(block_q4_K, d), rng.uniform(0.0005f, 0.002f));
          put_f16(row + b * t.block_bytes + offsetof(block_q4_K, dmin), rng.uniform(0.0005f, 0.002f));
        }
        break;
      default: break;  // other dtypes: not generated here (the GEMV does not take them)
    }
  }
  return bytes;
}

}  // namespace eaq::kernels::cuda
