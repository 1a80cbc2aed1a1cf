// CPU causal attention over the KV cache (f32 or f16), and kv_store that fills it.
// One work item = one (query token, query head); items are handed out through an atomic counter,
// longest (latest) queries first, so causal prefill load-balances across threads; each item's
// result does not depend on which thread ran it. Per item, keys are visited once in blocks of
// kKeyBlock with an online softmax (running max and sum, accumulator rescaled per block): memory
// is O(head_dim), never an n×n score matrix. Scores, softcap (Tanh) and probabilities (Exp) are
// vectorized with Highway's accurate math (≤ 4 ulp); everything accumulates in f32.
#include "kernels/cpu/highway_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/attention_cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/cpu_ops.h"

HWY_BEFORE_NAMESPACE();
namespace eaq::kernels::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
// Keys per online-softmax block: a multiple of every vector width, small enough for L1.
constexpr std::size_t kKeyBlock = 64;

HWY_INLINE VF LoadAsF32(DF df, const float* p) { return hn::LoadU(df, p); }
HWY_INLINE VF LoadAsF32(DF df, const hwy::float16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
HWY_INLINE float ScalarAsF32(const float* p, std::size_t i) { return p[i]; }
HWY_INLINE float ScalarAsF32(const hwy::float16_t* p, std::size_t i) {
  std::uint16_t bits;
  std::memcpy(&bits, p + i, 2);
  return f16_to_f32(bits);
}

template <typename CacheT>
HWY_INLINE float Dot(DF df, const float* q, const CacheT* k, std::size_t n) {
  const std::size_t lanes = hn::Lanes(df);
  VF acc = hn::Zero(df);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) acc = hn::MulAdd(hn::LoadU(df, q + i), LoadAsF32(df, k + i), acc);
  float sum = hn::GetLane(hn::SumOfLanes(df, acc));
  for (; i < n; ++i) sum += q[i] * ScalarAsF32(k, i);
  return sum;
}

// Dot for four keys at once: the same operations per key as Dot (results bit-identical), with the
// four FMA chains interleaved so they overlap instead of each key waiting on its own chain's
// latency (decode attention's scores were latency-bound on it).
template <typename CacheT>
HWY_INLINE void DotFour(DF df, const float* q, const CacheT* k, std::size_t stride, std::size_t n, float* out) {
  const std::size_t lanes = hn::Lanes(df);
  VF a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const VF qv = hn::LoadU(df, q + i);
    a0 = hn::MulAdd(qv, LoadAsF32(df, k + i), a0);
    a1 = hn::MulAdd(qv, LoadAsF32(df, k + stride + i), a1);
    a2 = hn::MulAdd(qv, LoadAsF32(df, k + 2 * stride + i), a2);
    a3 = hn::MulAdd(qv, LoadAsF32(df, k + 3 * stride + i), a3);
  }
  float s[4] = {hn::GetLane(hn::SumOfLanes(df, a0)), hn::GetLane(hn::SumOfLanes(df, a1)),
                hn::GetLane(hn::SumOfLanes(df, a2)), hn::GetLane(hn::SumOfLanes(df, a3))};
  for (; i < n; ++i) {
    for (std::size_t r = 0; r < 4; ++r) s[r] += q[i] * ScalarAsF32(k + r * stride, i);
  }
  for (std::size_t r = 0; r < 4; ++r) out[r] = s[r];
}

// acc[i] = acc[i] * keep + p * v[i]
template <typename CacheT>
HWY_INLINE void AccumulateRow(DF df, float* acc, float p, const CacheT* v, std::size_t n) {
  const std::size_t lanes = hn::Lanes(df);
  const VF vp = hn::Set(df, p);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::MulAdd(vp, LoadAsF32(df, v + i), hn::LoadU(df, acc + i)), df, acc + i);
  }
  for (; i < n; ++i) acc[i] += p * ScalarAsF32(v, i);
}

// acc[i] += p[0] * v[i] + p[1] * v[stride + i] + p[2] * v[2 stride + i] + p[3] * v[3 stride + i]:
// four keys per pass through acc, so the accumulator's store-to-load round trip is paid once per
// four keys instead of once per key (decode attention was latency-bound on it).
template <typename CacheT>
HWY_INLINE void AccumulateFourRows(DF df, float* acc, const float* p, const CacheT* v,
                                   std::size_t stride, std::size_t n) {
  const std::size_t lanes = hn::Lanes(df);
  const VF p0 = hn::Set(df, p[0]), p1 = hn::Set(df, p[1]), p2 = hn::Set(df, p[2]), p3 = hn::Set(df, p[3]);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const VF a = hn::MulAdd(p1, LoadAsF32(df, v + stride + i), hn::Mul(p0, LoadAsF32(df, v + i)));
    const VF b = hn::MulAdd(p3, LoadAsF32(df, v + 3 * stride + i), hn::Mul(p2, LoadAsF32(df, v + 2 * stride + i)));
    hn::StoreU(hn::Add(hn::LoadU(df, acc + i), hn::Add(a, b)), df, acc + i);
  }
  for (; i < n; ++i) {
    acc[i] += (p[0] * ScalarAsF32(v, i) + p[1] * ScalarAsF32(v, stride + i)) +
              (p[2] * ScalarAsF32(v, 2 * stride + i) + p[3] * ScalarAsF32(v, 3 * stride + i));
  }
}

struct AttentionItem {
  const AttentionParams& params;
  const KvRef& cache;
  std::size_t head_dim;
  std::size_t kv_row_elements;  // n_kv_heads * head_dim
};

template <typename CacheT>
void AttendOne(const AttentionItem& item, const float* q, std::int64_t position,
               std::size_t kv_head, float* out) {
  const DF df;
  const std::size_t lanes = hn::Lanes(df);
  const std::size_t hd = item.head_dim;
  const AttentionParams& p = item.params;
  const CacheT* k_base = static_cast<const CacheT*>(item.cache.k) + kv_head * hd;
  const CacheT* v_base = static_cast<const CacheT*>(item.cache.v) + kv_head * hd;

  thread_local std::vector<float> acc_storage;
  acc_storage.assign(hd, 0.0f);
  float* acc = acc_storage.data();
  HWY_ALIGN float scores[kKeyBlock];

  const std::int64_t first =
      p.sliding_window > 0 ? std::max<std::int64_t>(0, position - p.sliding_window + 1) : 0;
  const VF cap = hn::Set(df, p.logit_softcap);
  float running_max = -std::numeric_limits<float>::infinity();
  float running_sum = 0.0f;
  for (std::int64_t j0 = first; j0 <= position; j0 += static_cast<std::int64_t>(kKeyBlock)) {
    const std::size_t n_keys =
        static_cast<std::size_t>(std::min<std::int64_t>(kKeyBlock, position + 1 - j0));
    const std::size_t n_padded = (n_keys + lanes - 1) / lanes * lanes;
    std::size_t jk = 0;
    for (; jk + 4 <= n_keys; jk += 4) {
      DotFour(df, q, k_base + (static_cast<std::size_t>(j0) + jk) * item.kv_row_elements, item.kv_row_elements, hd,
              scores + jk);
      for (std::size_t r = 0; r < 4; ++r) scores[jk + r] *= p.scale;
    }
    for (; jk < n_keys; ++jk) {
      scores[jk] = Dot(df, q, k_base + (static_cast<std::size_t>(j0) + jk) * item.kv_row_elements, hd) * p.scale;
    }
    std::fill(scores + n_keys, scores + n_padded, 0.0f);
    if (p.logit_softcap != 0.0f) {
      // HF: (s / cap).tanh() * cap
      for (std::size_t j = 0; j < n_padded; j += lanes) {
        const VF s = hn::Load(df, scores + j);
        hn::Store(hn::Mul(hn::Tanh(df, hn::Div(s, cap)), cap), df, scores + j);
      }
    }
    float block_max = running_max;
    for (std::size_t j = 0; j < n_keys; ++j) block_max = std::max(block_max, scores[j]);
    // exp(-inf) = 0 on the first block; the accumulator is still all zeros then.
    const float correction = std::exp(running_max - block_max);
    running_max = block_max;
    const VF vmax = hn::Set(df, block_max);
    for (std::size_t j = 0; j < n_padded; j += lanes) {
      const VF shifted = hn::Max(hn::Sub(hn::Load(df, scores + j), vmax), hn::Set(df, -FLT_MAX));
      hn::Store(hn::Exp(df, shifted), df, scores + j);
    }
    float block_sum = 0.0f;
    for (std::size_t j = 0; j < n_keys; ++j) block_sum += scores[j];
    running_sum = running_sum * correction + block_sum;
    if (correction != 1.0f) {
      const VF vc = hn::Set(df, correction);
      std::size_t i = 0;
      for (; i + lanes <= hd; i += lanes) hn::StoreU(hn::Mul(hn::LoadU(df, acc + i), vc), df, acc + i);
      for (; i < hd; ++i) acc[i] *= correction;
    }
    std::size_t j = 0;
    for (; j + 4 <= n_keys; j += 4) {
      const CacheT* v0 = v_base + (static_cast<std::size_t>(j0) + j) * item.kv_row_elements;
      AccumulateFourRows(df, acc, scores + j, v0, item.kv_row_elements, hd);
    }
    for (; j < n_keys; ++j) {
      AccumulateRow(df, acc, scores[j],
                    v_base + (static_cast<std::size_t>(j0) + j) * item.kv_row_elements, hd);
    }
  }
  const float inv_sum = 1.0f / running_sum;
  for (std::size_t i = 0; i < hd; ++i) out[i] = acc[i] * inv_sum;
}

void AttentionImpl(ThreadPool& pool, const AttentionParams& params, const float* q,
                   std::int64_t n_tokens, const std::int32_t* q_positions, const KvRef& cache,
                   float* out) {
  const std::size_t n_heads = static_cast<std::size_t>(params.n_heads);
  const std::size_t hd = static_cast<std::size_t>(params.head_dim);
  const std::size_t group = n_heads / static_cast<std::size_t>(params.n_kv_heads);
  const std::size_t n_items = static_cast<std::size_t>(n_tokens) * n_heads;
  const AttentionItem item{params, cache, hd, static_cast<std::size_t>(params.n_kv_heads) * hd};
  std::atomic<std::size_t> next_item{0};
  const std::size_t n_workers = std::min<std::size_t>(n_items, pool.n_threads());
  pool.parallel_for(n_workers, [&](std::size_t, std::size_t) {
    for (std::size_t it = next_item.fetch_add(1); it < n_items; it = next_item.fetch_add(1)) {
      // Later tokens see more keys: hand them out first.
      const std::size_t t = static_cast<std::size_t>(n_tokens) - 1 - it / n_heads;
      const std::size_t h = it % n_heads;
      const float* q_row = q + (t * n_heads + h) * hd;
      float* out_row = out + (t * n_heads + h) * hd;
      if (cache.dtype == DType::F16) {
        AttendOne<hwy::float16_t>(item, q_row, q_positions[t], h / group, out_row);
      } else {
        AttendOne<float>(item, q_row, q_positions[t], h / group, out_row);
      }
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace eaq::kernels::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace eaq::kernels::cpu {

HWY_EXPORT(AttentionImpl);

void attention(ThreadPool& pool, const AttentionParams& params, const float* q,
               std::int64_t n_tokens, const std::int32_t* q_positions, const KvRef& cache,
               float* out) {
  HWY_DYNAMIC_DISPATCH(AttentionImpl)(pool, params, q, n_tokens, q_positions, cache, out);
}

void kv_store(ThreadPool& pool, const KvRef& cache, std::int64_t first_position,
              std::int64_t n_tokens, const float* k, const float* v) {
  (void)pool;  // a few rows per call: copying is cheaper than waking workers
  const std::size_t row = static_cast<std::size_t>(cache.n_kv_heads * cache.head_dim);
  const std::size_t count = static_cast<std::size_t>(n_tokens) * row;
  const std::size_t offset = static_cast<std::size_t>(first_position) * row;
  if (cache.dtype == DType::F32) {
    std::memcpy(static_cast<float*>(cache.k) + offset, k, count * sizeof(float));
    std::memcpy(static_cast<float*>(cache.v) + offset, v, count * sizeof(float));
    return;
  }
  auto* k_dst = static_cast<std::uint16_t*>(cache.k) + offset;
  auto* v_dst = static_cast<std::uint16_t*>(cache.v) + offset;
  for (std::size_t i = 0; i < count; ++i) {
    k_dst[i] = f32_to_f16(k[i]);
    v_dst[i] = f32_to_f16(v[i]);
  }
}

}  // namespace eaq::kernels::cpu
#endif  // HWY_ONCE
