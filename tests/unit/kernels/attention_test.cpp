// kv_store + attention against a double-precision softmax(q·kᵀ)·v reference: GQA ratios 1, 3, 4,
// head dims that are and are not multiples of the vector width, prompts longer than one key
// block, sliding windows, logit softcap, f32 and f16 caches, prefill and 1-token decode, and
// identical results across thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

using test::random_floats;

struct Case {
  std::int64_t n_heads, n_kv_heads, head_dim;
  std::int64_t window;
  float softcap;
  DType cache_dtype;
};

// A cache of `capacity` positions; positions [0, n_cached) hold random keys/values, stored with
// kv_store. Queries are the last n_query positions. Returns the max abs error vs the reference.
struct AttentionRun {
  std::vector<float> out;
  double max_error = 0;
};

AttentionRun run_case(const Case& c, std::int64_t n_cached, std::int64_t n_query, int n_threads,
                      float q_scale, std::uint32_t seed) {
  const std::int64_t kv_width = c.n_kv_heads * c.head_dim, q_width = c.n_heads * c.head_dim;
  const std::int64_t capacity = n_cached + 3;
  const std::size_t elem = c.cache_dtype == DType::F16 ? 2 : 4;
  std::vector<std::uint8_t> k_store(capacity * kv_width * elem), v_store(capacity * kv_width * elem);
  KvRef cache{c.cache_dtype, k_store.data(), v_store.data(), c.n_kv_heads, c.head_dim, capacity};
  const std::vector<float> keys = random_floats(n_cached * kv_width, seed);
  const std::vector<float> values = random_floats(n_cached * kv_width, seed + 1);
  const std::vector<float> q = random_floats(n_query * q_width, seed + 2, -q_scale, q_scale);
  ThreadPool pool(n_threads);
  KernelContext ctx{&pool};
  // Stored in two calls (a prompt, then the rest) as prefill and decode do.
  const std::int64_t split = n_cached / 2;
  kv_store(ctx, cache, 0, split, keys.data(), values.data());
  kv_store(ctx, cache, split, n_cached - split, keys.data() + split * kv_width, values.data() + split * kv_width);
  std::vector<std::int32_t> positions(n_query);
  for (std::int64_t t = 0; t < n_query; ++t) positions[t] = static_cast<std::int32_t>(n_cached - n_query + t);
  AttentionParams params{c.n_heads, c.n_kv_heads, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim)),
                         c.window, c.softcap};
  AttentionRun run;
  run.out.assign(n_query * q_width, std::nanf(""));
  attention(ctx, params, q.data(), n_query, positions.data(), cache, run.out.data());

  // What the cache holds: f16 rounds each value.
  auto stored = [&](float x) { return c.cache_dtype == DType::F16 ? f16_to_f32(f32_to_f16(x)) : x; };
  const std::int64_t group = c.n_heads / c.n_kv_heads;
  for (std::int64_t t = 0; t < n_query; ++t) {
    const std::int64_t pos = positions[t];
    for (std::int64_t h = 0; h < c.n_heads; ++h) {
      const std::int64_t kvh = h / group;
      const float* qv = q.data() + t * q_width + h * c.head_dim;
      std::vector<double> scores;
      std::vector<std::int64_t> keys_seen;
      for (std::int64_t j = 0; j <= pos; ++j) {
        if (c.window > 0 && pos - j >= c.window) continue;
        double s = 0;
        for (std::int64_t d = 0; d < c.head_dim; ++d) {
          s += static_cast<double>(qv[d]) * stored(keys[j * kv_width + kvh * c.head_dim + d]);
        }
        s *= params.scale;
        if (c.softcap != 0) s = c.softcap * std::tanh(s / c.softcap);
        scores.push_back(s);
        keys_seen.push_back(j);
      }
      const double max_score = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - max_score));
      for (std::int64_t d = 0; d < c.head_dim; ++d) {
        double expected = 0;
        for (std::size_t i = 0; i < scores.size(); ++i) {
          expected += scores[i] / sum * stored(values[keys_seen[i] * kv_width + kvh * c.head_dim + d]);
        }
        const double got = run.out[t * q_width + h * c.head_dim + d];
        run.max_error = std::max(run.max_error, std::isnan(got) ? 1e30 : std::abs(got - expected));
      }
    }
  }
  return run;
}

void check_attention_cases(bool all_cases) {
  std::uint32_t seed = 100;
  for (DType dtype : {DType::F32, DType::F16}) {
    for (std::int64_t group : {1, 3, 4}) {
      for (std::int64_t head_dim : {64, 20}) {
        for (std::int64_t window : {0, 5, 70}) {
          for (float softcap : {0.0f, 5.0f}) {
            // The other SIMD targets get every feature once, not every combination.
            if (!all_cases && (group == 4 || window == 70 || (softcap != 0 && window != 0))) continue;
            const Case c{2 * group, 2, head_dim, window, softcap, dtype};
            SCOPED_TRACE(testing::Message() << dtype_name(dtype) << " heads " << c.n_heads << "/"
                                            << c.n_kv_heads << " dim " << head_dim << " window "
                                            << window << " softcap " << softcap);
            // A 150-token prompt (three key blocks), then one decode token on a 151-token cache.
            const AttentionRun prefill = run_case(c, 150, 150, 2, 4.0f, seed++);
            EXPECT_LT(prefill.max_error, 2e-5);
            const AttentionRun decode = run_case(c, 151, 1, 2, 4.0f, seed++);
            EXPECT_LT(decode.max_error, 2e-5);
          }
        }
      }
    }
  }
}

TEST(Attention, MatchesReferenceAcrossShapesAndCaches) {
  bool first_target = true;
  test::for_each_simd_target([&] {
    check_attention_cases(first_target);
    first_target = false;
  });
}

TEST(Attention, LargeLogitsStayStable) {
  // Scores of several hundred: a naive exp would overflow; the online max must carry it.
  test::for_each_simd_target([] {
    const Case c{4, 2, 32, 0, 0.0f, DType::F32};
    const AttentionRun run = run_case(c, 200, 7, 2, 60.0f, 9);
    EXPECT_LT(run.max_error, 1e-4);
  });
}

TEST(Attention, ThreadCountDoesNotChangeResults) {
  const Case c{6, 2, 48, 0, 0.0f, DType::F16};
  const AttentionRun one = run_case(c, 97, 33, 1, 2.0f, 5);
  const AttentionRun two = run_case(c, 97, 33, 2, 2.0f, 5);
  ASSERT_EQ(0, std::memcmp(one.out.data(), two.out.data(), one.out.size() * sizeof(float)));
}

TEST(KvStore, F16RoundsToNearestEven) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  std::vector<std::uint16_t> k(2 * 4), v(2 * 4);
  KvRef cache{DType::F16, k.data(), v.data(), 1, 4, 2};
  const std::vector<float> keys = {1.0f, 65504.0f, 1e-7f, -2.5f}, values = {0.1f, -0.3f, 70000.0f, 3.0f};
  kv_store(ctx, cache, 1, 1, keys.data(), values.data());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(k[4 + i], f32_to_f16(keys[i]));
    EXPECT_EQ(v[4 + i], f32_to_f16(values[i]));
  }
}

TEST(Attention, RejectsBadArguments) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  std::vector<float> k(4 * 8), v(4 * 8), q(3 * 8), out(3 * 8);
  KvRef cache{DType::F32, k.data(), v.data(), 1, 8, 4};
  const std::vector<float> row(8, 1.0f);
  EXPECT_THROW(kv_store(ctx, cache, 4, 1, row.data(), row.data()), Error);
  std::vector<std::int32_t> positions = {0, 1, 4};
  AttentionParams params{3, 1, 8, 1.0f, 0, 0.0f};
  EXPECT_THROW(attention(ctx, params, q.data(), 3, positions.data(), cache, out.data()), Error);
  params.n_heads = 2;
  params.n_kv_heads = 3;
  positions = {0, 1, 2};
  EXPECT_THROW(attention(ctx, params, q.data(), 3, positions.data(), cache, out.data()), Error);
  KvRef bf16_cache = cache;
  bf16_cache.dtype = DType::BF16;
  EXPECT_THROW(kv_store(ctx, bf16_cache, 0, 1, row.data(), row.data()), Error);
}

}  // namespace
}  // namespace eaq::kernels
