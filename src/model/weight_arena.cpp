// WeightArena: row-by-row conversion so no f32 copy of a whole matrix is ever needed.
#include "model/weight_arena.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace eaq::model {

void convert_f32_row(const float* src, DType dtype, void* dst, std::size_t n) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::F16: {
      auto* d = static_cast<std::uint16_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<std::uint16_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    default:
      fail("cannot convert weights to {}: the CPU engine computes in f32, f16 or bf16", dtype_name(dtype));
  }
}

kernels::WeightRef WeightArena::matrix(DType dtype, std::int64_t rows, std::int64_t cols, const void* data,
                                       DType target, QuantizeRowFn quantize_row) {
  if (dtype == target) return kernels::make_weight_ref(dtype, rows, cols, data);
  const bool plain_target = target == DType::F32 || target == DType::F16 || target == DType::BF16;
  if (!plain_target && quantize_row == nullptr) {
    fail("cannot convert weights to {} without a quantizer (EngineOptions::quantize_row)", dtype_name(target));
  }
  const std::size_t src_row = row_bytes(dtype, cols), dst_row = row_bytes(target, cols);
  auto buffer = std::make_unique<std::uint8_t[]>(dst_row * rows);
  std::vector<float> scratch(cols);
  const auto* src = static_cast<const std::uint8_t*>(data);
  for (std::int64_t r = 0; r < rows; ++r) {
    dequantize(dtype, src + r * src_row, scratch.data(), cols);
    if (plain_target) {
      convert_f32_row(scratch.data(), target, buffer.get() + r * dst_row, cols);
    } else {
      quantize_row(target, scratch.data(), buffer.get() + r * dst_row, static_cast<std::size_t>(cols));
    }
  }
  kernels::WeightRef ref = kernels::make_weight_ref(target, rows, cols, buffer.get());
  owned_bytes_ += dst_row * rows;
  buffers_.push_back(std::move(buffer));
  return ref;
}

const float* WeightArena::vector_f32(DType dtype, std::int64_t n, const void* data, float add) {
  if (dtype == DType::F32 && add == 0.0f) return static_cast<const float*>(data);
  auto buffer = std::make_unique<std::uint8_t[]>(n * sizeof(float));
  auto* out = reinterpret_cast<float*>(buffer.get());
  dequantize(dtype, data, out, n);
  for (std::int64_t i = 0; i < n; ++i) out[i] += add;
  owned_bytes_ += n * sizeof(float);
  buffers_.push_back(std::move(buffer));
  return out;
}

}  // namespace eaq::model
