// int8-dyn (W8A8, the analogue of PyTorch dynamic quantization): each activation row is quantized
// to int8 with its own scale (quantize_activations_int8), then Σ int8(w) · int8(x) is computed in
// int32 and scaled by the two scales. kernels/cpu/matmul_packed_cpu.cpp routes i8_ch_dyn here.
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_int8_dynamic_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/eaq_quant_blocks.h"
#include "kernels/cpu/decode_row_order.h"
#include "kernels/cpu/matmul_packed_cpu.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// int8-dyn: Σ int8(w) · int8(x) in int32 through 16-bit multiply-adds (vpmaddwd on x86).
std::int32_t DotInt8(const std::int8_t* a, const std::int8_t* b, std::size_t k) {
  const hn::ScalableTag<std::int16_t> d16;
  const hn::Rebind<std::int8_t, decltype(d16)> d8;
  const hn::Repartition<std::int32_t, decltype(d16)> d32;
  const std::size_t lanes = hn::Lanes(d16);
  auto sum0 = hn::Zero(d32), sum1 = hn::Zero(d32);
  std::size_t j = 0;
  for (; j + lanes <= k; j += lanes) {
    const auto va = hn::PromoteTo(d16, hn::LoadU(d8, a + j));
    const auto vb = hn::PromoteTo(d16, hn::LoadU(d8, b + j));
    sum0 = hn::ReorderWidenMulAccumulate(d32, va, vb, sum0, sum1);
  }
  std::int32_t total = hn::GetLane(hn::SumOfLanes(d32, hn::RearrangeToOddPlusEven(sum0, sum1)));
  for (; j < k; ++j) total += static_cast<std::int32_t>(a[j]) * b[j];
  return total;
}

void MatmulDynamicInt8(ThreadPool& pool, const float* x, std::int64_t m_signed, const WeightRef& w,
                       const float* bias, float* y) {
  const std::size_t m = static_cast<std::size_t>(m_signed), n = static_cast<std::size_t>(w.rows),
                    k = static_cast<std::size_t>(w.cols);
  std::vector<std::int8_t> xq(m * k);
  std::vector<float> x_scale(m);
  for (std::size_t i = 0; i < m; ++i) quantize_activations_int8(x + i * k, k, xq.data() + i * k, &x_scale[i]);
  auto row_dot = [&](std::size_t row) {
    const auto* bytes = static_cast<const std::uint8_t*>(w.data) + row * w.row_stride_bytes;
    float w_scale;
    std::memcpy(&w_scale, bytes, 4);
    const auto* q = reinterpret_cast<const std::int8_t*>(bytes + kChannelRowHeaderBytes);
    for (std::size_t i = 0; i < m; ++i) {
      const std::int32_t dot = DotInt8(q, xq.data() + i * k, k);
      y[i * n + row] = static_cast<float>(dot) * (x_scale[i] * w_scale) + (bias != nullptr ? bias[row] : 0.0f);
    }
  };
  pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
    if (m > 1) {
      for (std::size_t row = begin; row < end; ++row) row_dot(row);
      return;
    }
    const std::size_t segment_rows = decode_segment_rows(begin, end);  // decode: decode_row_order.h
    for (std::size_t t = 0; t < segment_rows; ++t) {
      for (std::size_t c = 0; c < kDecodeStreams; ++c) {
        const std::size_t row = decode_row(begin, segment_rows, c, t);
        if (row < end) row_dot(row);
      }
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(MatmulDynamicInt8);

void quantize_activations_int8(const float* x, std::size_t k, std::int8_t* q, float* scale) {
  float absmax = 0.0f;
  for (std::size_t j = 0; j < k; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  *scale = absmax / 127.0f;
  for (std::size_t j = 0; j < k; ++j) {
    const float v = *scale != 0.0f ? x[j] / *scale : 0.0f;
    q[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(v), -127.0f, 127.0f));
  }
}

void matmul_int8_dynamic(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                         float* y) {
  HWY_DYNAMIC_DISPATCH(MatmulDynamicInt8)(pool, x, m, w, bias, y);
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
