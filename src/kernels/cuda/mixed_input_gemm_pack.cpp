// The mixed-input prefill GEMM's host form of a weight (mixed_input_gemm_pack.h).
#include "kernels/cuda/mixed_input_gemm_pack.h"

#include <cstring>
#include <string>

#include "core/dequantize_eaq_formats.h"
#include "core/eaq_quant_blocks.h"
#include "core/error.h"

namespace eaq::kernels::cuda {
namespace {

int group_of(DType dtype) {
  switch (dtype) {
    case DType::I4S_G64: return 64;
    case DType::I4S_G128: return 128;
    default: return 0;
  }
}

template <int G>
void pack_i4s(const WeightRef& w, MixedGemmHostWeight& out) {
  const std::size_t rows = static_cast<std::size_t>(w.rows), cols = static_cast<std::size_t>(w.cols);
  const std::size_t groups = cols / G;
  out.codes.assign(rows * cols / 2, 0);
  out.scales.assign(groups * rows * 2, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto* row = static_cast<const unsigned char*>(w.data) + r * w.row_stride_bytes;
    std::uint8_t* codes = out.codes.data() + r * cols / 2;
    for (std::size_t g = 0; g < groups; ++g) {
      const unsigned char* block = row + g * sizeof(block_i4s<G>);
      std::memcpy(out.scales.data() + (g * rows + r) * 2, block + offsetof(block_i4s<G>, d), 2);
      const unsigned char* qs = block + offsetof(block_i4s<G>, qs);
      for (std::size_t i = 0; i < static_cast<std::size_t>(G); ++i) {
        // q - 8 as a two's complement nibble is q with its top bit flipped.
        const unsigned code = nibble_of_chunk(qs + (i / 32) * 16, i % 32) ^ 0x8u;
        const std::size_t k = g * G + i;
        codes[k / 2] |= static_cast<std::uint8_t>(code << (4 * (k % 2)));
      }
    }
  }
}

void pack_i8_channel(const WeightRef& w, MixedGemmHostWeight& out) {
  const std::size_t rows = static_cast<std::size_t>(w.rows), cols = static_cast<std::size_t>(w.cols);
  out.codes.resize(rows * cols);
  out.scales.resize(rows * sizeof(float));
  for (std::size_t r = 0; r < rows; ++r) {
    const auto* row = static_cast<const unsigned char*>(w.data) + r * w.row_stride_bytes;
    std::memcpy(out.scales.data() + r * sizeof(float), row, sizeof(float));
    std::memcpy(out.codes.data() + r * cols, row + kChannelRowHeaderBytes, cols);
  }
}

}  // namespace

bool mixed_gemm_takes(DType dtype, std::int64_t rows, std::int64_t cols) {
  const bool format = group_of(dtype) > 0 || dtype == DType::I8_CH;
  // Rows and cols multiples of 128: the shapes verified on a GPU (mixed_input_gemm.h says why no
  // others; the upload's reordering copy takes K in steps of 128 codes).
  return format && rows > 0 && cols > 0 && rows % 128 == 0 && cols % 128 == 0;
}

MixedGemmHostWeight pack_for_mixed_gemm(const WeightRef& host) {
  if (!mixed_gemm_takes(host.dtype, host.rows, host.cols)) {
    throw Error("the mixed-input prefill GEMM does not take a " + std::string(dtype_name(host.dtype)) + " weight of " +
                std::to_string(host.rows) + " x " + std::to_string(host.cols) +
                " (it takes i4s_g64, i4s_g128 and i8_ch with rows and columns multiples of 128)");
  }
  MixedGemmHostWeight out;
  out.dtype = host.dtype;
  out.rows = host.rows;
  out.cols = host.cols;
  switch (host.dtype) {
    case DType::I4S_G64: out.group = 64; pack_i4s<64>(host, out); break;
    case DType::I4S_G128: out.group = 128; pack_i4s<128>(host, out); break;
    default: out.group = static_cast<int>(host.cols); pack_i8_channel(host, out); break;
  }
  return out;
}

}  // namespace eaq::kernels::cuda
