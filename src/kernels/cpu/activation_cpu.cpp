// CPU gated activations of the MLP: swiglu (silu(gate) * up) and geglu_tanh
// (gelu_pytorch_tanh(gate) * up), with Highway's accurate Exp/Tanh (≤ 4 ulp), elementwise and
// split over the thread pool in fixed chunks (each element's value is independent of the split).
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/activation_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_ops.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
// Elements per parallel chunk: below this a second thread costs more than it saves.
constexpr std::size_t kChunkElements = 16384;

// silu(g) = g * sigmoid(g), with sigmoid from exp(-|g|) so Exp never overflows.
struct SiluTimes {
  HWY_INLINE VF operator()(DF df, VF g, VF up) const {
    const VF one = hn::Set(df, 1.0f);
    const VF e = hn::Exp(df, hn::Neg(hn::Abs(g)));
    const VF denom = hn::Add(one, e);
    const VF sigmoid = hn::IfThenElse(hn::Ge(g, hn::Zero(df)), hn::Div(one, denom), hn::Div(e, denom));
    return hn::Mul(hn::Mul(g, sigmoid), up);
  }
};

// gelu_pytorch_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))), in PyTorch's order.
struct GeluTanhTimes {
  HWY_INLINE VF operator()(DF df, VF g, VF up) const {
    const VF beta = hn::Set(df, 0.7978845608028654f);  // sqrt(2/pi)
    const VF kappa = hn::Set(df, 0.044715f);
    const VF cube = hn::Mul(hn::Mul(g, g), g);
    const VF inner = hn::Mul(beta, hn::Add(g, hn::Mul(kappa, cube)));
    const VF t = hn::Tanh(df, inner);
    const VF gelu = hn::Mul(hn::Mul(hn::Set(df, 0.5f), g), hn::Add(hn::Set(df, 1.0f), t));
    return hn::Mul(gelu, up);
  }
};

template <class Fn>
void GatedRange(const float* gate, const float* up, float* out, std::size_t begin, std::size_t end,
                Fn fn) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  std::size_t i = begin;
  for (; i + lanes <= end; i += lanes) {
    hn::StoreU(fn(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, out + i);
  }
  if (i < end) {  // zero-padded tail: the same per-lane arithmetic as the full vectors
    HWY_ALIGN float g[kMaxLanes] = {};
    HWY_ALIGN float u[kMaxLanes] = {};
    const std::size_t rest = end - i;
    std::copy(gate + i, gate + end, g);
    std::copy(up + i, up + end, u);
    HWY_ALIGN float result[kMaxLanes];
    hn::Store(fn(df, hn::Load(df, g), hn::Load(df, u)), df, result);
    std::copy(result, result + rest, out + i);
  }
}

template <class Fn>
void Gated(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n, Fn fn) {
  const std::size_t count = static_cast<std::size_t>(n);
  const std::size_t n_chunks = (count + kChunkElements - 1) / kChunkElements;
  pool.parallel_for(n_chunks, [&](std::size_t c0, std::size_t c1) {
    GatedRange(gate, up, out, c0 * kChunkElements, std::min(count, c1 * kChunkElements), fn);
  });
}

void SwigluImpl(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n) {
  Gated(pool, gate, up, out, n, SiluTimes());
}
void GegluTanhImpl(ThreadPool& pool, const float* gate, const float* up, float* out,
                   std::int64_t n) {
  Gated(pool, gate, up, out, n, GeluTanhTimes());
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(SwigluImpl);
HWY_EXPORT(GegluTanhImpl);

void swiglu(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n) {
  HWY_DYNAMIC_DISPATCH(SwigluImpl)(pool, gate, up, out, n);
}
void geglu_tanh(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n) {
  HWY_DYNAMIC_DISPATCH(GegluTanhImpl)(pool, gate, up, out, n);
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
