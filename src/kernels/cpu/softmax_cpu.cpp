// CPU row softmax: subtract the row max, Highway's accurate Exp (1 ulp), sum, divide; and a row's
// log-sum-exp (the log-softmax normaliser that scoring subtracts).
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/softmax_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/cpu/cpu_ops.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
constexpr std::size_t kSumChunk = 256;

// exp(v - max), with -inf inputs (masked logits) clamped into Exp's valid range (→ 0).
HWY_INLINE VF ExpShifted(DF df, VF v, VF row_max) {
  return hn::Exp(df, hn::Max(hn::Sub(v, row_max), hn::Set(df, -FLT_MAX)));
}

float RowMax(const float* x, std::size_t n) {
  float row_max = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < n; ++i) row_max = std::max(row_max, x[i]);
  return row_max;
}

// sum_i exp(x_i - row_max), writing each exp to out when out is not null (out may be x). f32
// partial sums per chunk, chunks summed in double: vocabulary-sized rows keep ~1e-7 relative error
// even on the 1-lane fallback target.
double SumExpShifted(const float* x, float row_max, float* out, std::size_t n) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  const VF vmax = hn::Set(df, row_max);
  double sum = 0.0;
  std::size_t i = 0;
  while (i + lanes <= n) {
    VF vsum = hn::Zero(df);
    const std::size_t chunk_end = std::min(n, i + kSumChunk);
    for (; i + lanes <= chunk_end; i += lanes) {
      const VF e = ExpShifted(df, hn::LoadU(df, x + i), vmax);
      if (out != nullptr) hn::StoreU(e, df, out + i);
      vsum = hn::Add(vsum, e);
    }
    sum += hn::GetLane(hn::SumOfLanes(df, vsum));
  }
  if (i < n) {
    HWY_ALIGN float tail[kMaxLanes];
    std::fill(tail, tail + lanes, -std::numeric_limits<float>::infinity());
    std::copy(x + i, x + n, tail);
    hn::Store(ExpShifted(df, hn::Load(df, tail), vmax), df, tail);
    for (std::size_t j = 0; j < n - i; ++j) {
      if (out != nullptr) out[i + j] = tail[j];
      sum += tail[j];
    }
  }
  return sum;
}

void SoftmaxRow(float* x, std::size_t n) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  const float total = static_cast<float>(SumExpShifted(x, RowMax(x, n), x, n));
  const VF vtotal = hn::Set(df, total);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(hn::Div(hn::LoadU(df, x + i), vtotal), df, x + i);
  for (; i < n; ++i) x[i] = x[i] / total;
}

// log(sum_i exp(x_i)) of one row: the max plus the log of the shifted sum.
double LogSumExpImpl(const float* x, std::size_t n) {
  const float row_max = RowMax(x, n);
  if (row_max == -std::numeric_limits<float>::infinity()) return row_max;
  return static_cast<double>(row_max) + std::log(SumExpShifted(x, row_max, nullptr, n));
}

void SoftmaxImpl(ThreadPool& pool, float* x, std::int64_t rows, std::int64_t n) {
  const std::size_t row_len = static_cast<std::size_t>(n);
  pool.parallel_for(static_cast<std::size_t>(rows), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) SoftmaxRow(x + r * row_len, row_len);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(SoftmaxImpl);
HWY_EXPORT(LogSumExpImpl);

void softmax(ThreadPool& pool, float* x, std::int64_t rows, std::int64_t n) {
  HWY_DYNAMIC_DISPATCH(SoftmaxImpl)(pool, x, rows, n);
}

double log_sum_exp(const float* x, std::int64_t n) {
  return HWY_DYNAMIC_DISPATCH(LogSumExpImpl)(x, static_cast<std::size_t>(n));
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
