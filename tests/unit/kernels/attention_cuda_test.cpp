// The CUDA attention kernels (kernels/cuda/decoder_ops.h, attention_prefill_tc.h) against the CPU
// op of kernels/ops.h on the same f16 cache bytes: split-K and cluster decode attention (from a
// query, or from the QKV projection with the RoPE and KV write fused in) and prefill attention (GQA,
// sliding window, softcap; the tensor-core, f16-product and warp-per-query kernels each on their
// own, and a whole prefill chunk). Bar: max |gpu - cpu| / max(1, max |cpu|) < 2e-4 (f32
// arithmetic in a different order); the prefill kernel with f16 query and softmax weights < 4e-3.
// Skips without a GPU.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cuda/attention_prefill_tc.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/ops.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"

namespace eaq::kernels::cuda {
namespace {

using test::CpuContext;
using test::Device;
using test::have_gpu;
using test::random_floats;
using test::rel_error;

struct AttentionCase {
  int n_heads, n_kv_heads, head_dim, window;
  float softcap;
};

// The CPU and GPU attention parameters of a case (scale 1/sqrt(head_dim)); the GPU caches are set
// by the caller.
std::pair<AttentionParams, AttentionCudaParams> attention_params(const AttentionCase& ac) {
  AttentionParams cp;
  cp.n_heads = ac.n_heads;
  cp.n_kv_heads = ac.n_kv_heads;
  cp.head_dim = ac.head_dim;
  cp.scale = 1.0f / std::sqrt(static_cast<float>(ac.head_dim));
  cp.sliding_window = ac.window;
  cp.logit_softcap = ac.softcap;
  AttentionCudaParams gp;
  gp.n_heads = ac.n_heads;
  gp.n_kv_heads = ac.n_kv_heads;
  gp.head_dim = ac.head_dim;
  gp.scale = cp.scale;
  gp.sliding_window = ac.window;
  gp.logit_softcap = ac.softcap;
  return {cp, gp};
}

// A random f16 KV cache of max_pos positions as the CPU op stores it (keys uniform in ±k_abs from
// `seed`, values in ±1 from seed + 1): both sides read these bytes; `ref` points into k and v.
struct HostKvCache {
  std::vector<std::uint16_t> k, v;
  KvRef ref;
};

HostKvCache random_kv_cache(const KernelContext& ctx, int max_pos, int nkv, int hd, std::uint32_t seed, float k_abs) {
  const auto keys = random_floats(static_cast<std::size_t>(max_pos * nkv * hd), seed, -k_abs, k_abs);
  const auto values = random_floats(keys.size(), seed + 1);
  HostKvCache cache;
  cache.k.resize(keys.size());
  cache.v.resize(values.size());
  cache.ref = KvRef{DType::F16, cache.k.data(), cache.v.data(), nkv, hd, max_pos};
  kv_store(ctx, cache.ref, 0, max_pos, keys.data(), values.data());
  return cache;  // moving the vectors keeps their buffers, so ref stays valid
}

TEST(AttentionCuda, AttentionDecodeAndPrefillMatchCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  const int max_pos = 300;  // three decode splits
  for (const AttentionCase& ac : {AttentionCase{4, 2, 64, 0, 0.0f}, AttentionCase{8, 1, 128, 0, 0.0f},
                                  AttentionCase{4, 4, 8, 0, 0.0f}, AttentionCase{4, 2, 256, 37, 50.0f},
                                  AttentionCase{2, 1, 80, 0, 0.0f}}) {
    const int hd = ac.head_dim, nkv = ac.n_kv_heads, nh = ac.n_heads;
    const HostKvCache kv = random_kv_cache(c.ctx, max_pos, nkv, hd, 7, 1.0f);
    const KvRef& cache = kv.ref;
    auto [cp, gp] = attention_params(ac);
    Device<std::uint16_t> d_k(kv.k), d_v(kv.v);
    gp.k_cache = d_k.ptr;
    gp.v_cache = d_v.ptr;

    // Prefill: queries at the last 20 positions and at 0..2.
    std::vector<std::int32_t> positions = {0, 1, 2};
    for (int p = max_pos - 20; p < max_pos; ++p) positions.push_back(p);
    const int T = static_cast<int>(positions.size());
    auto q = random_floats(static_cast<std::size_t>(T * nh * hd), 9);
    std::vector<float> ref(q.size());
    for (int t = 0; t < T; ++t) {  // one query at a time: the CPU op takes consecutive positions
      attention(c.ctx, cp, q.data() + t * nh * hd, 1, &positions[t], cache, ref.data() + t * nh * hd);
    }
    Device<float> d_q(q), d_out(std::vector<float>(q.size()));
    Device<std::int32_t> d_pos(positions);
    attention_prefill(gp, d_q.ptr, d_pos.ptr, T, d_out.ptr, nullptr, DType::F16, false, nullptr);
    EXPECT_LT(rel_error(d_out.get(), ref), 2e-4) << "prefill hd " << hd << " window " << ac.window;
    // Each of the two kernels it dispatches between, on its own.
    Device<float> d_out_warp(std::vector<float>(q.size())), d_out_tc(std::vector<float>(q.size()));
    attention_prefill_warp(gp, d_q.ptr, d_pos.ptr, T, d_out_warp.ptr, nullptr, DType::F16, nullptr);
    EXPECT_LT(rel_error(d_out_warp.get(), ref), 2e-4) << "warp prefill hd " << hd << " window " << ac.window;
    EXPECT_TRUE(attention_prefill_tc(gp, d_q.ptr, d_pos.ptr, T, d_out_tc.ptr, nullptr, DType::F16, nullptr));
    EXPECT_LT(rel_error(d_out_tc.get(), ref), 2e-4) << "tensor-core prefill hd " << hd << " window " << ac.window;

    // Decode: each of a few positions through the split-K kernel.
    const int max_splits = decode_max_splits(max_pos);
    Device<float> d_partial(std::vector<float>(static_cast<std::size_t>(nh * max_splits * (hd + 2))));
    Device<unsigned> d_counters(std::vector<unsigned>(static_cast<std::size_t>(nh), 0));
    for (int t : {0, 3, T - 1}) {
      Device<float> d_q1(std::vector<float>(q.begin() + t * nh * hd, q.begin() + (t + 1) * nh * hd));
      Device<float> d_o1(std::vector<float>(static_cast<std::size_t>(nh * hd)));
      Device<std::int32_t> d_p1(std::vector<std::int32_t>{positions[t]});
      const std::vector<float> ref1(ref.begin() + t * nh * hd, ref.begin() + (t + 1) * nh * hd);
      for (int split_keys : {kDecodeCluster, 0, 32, 64, 128}) {  // cluster (sm_90), automatic, split-K
        attention_decode(gp, nullptr, d_q1.ptr, d_p1.ptr, max_splits, d_partial.ptr, d_counters.ptr, d_o1.ptr, nullptr,
                         split_keys);
        EXPECT_LT(rel_error(d_o1.get(), ref1), 2e-4)
            << "decode hd " << hd << " position " << positions[t] << " split " << split_keys;
      }
    }
  }
}

// Decode over a long cache: the cluster kernel's blocks then walk several 128-key chunks each
// (2100 positions: 263 keys a block), with and without a sliding window and a softcap; and the
// split-K kernel at each split size, against the CPU op.
TEST(AttentionCuda, AttentionDecodeLongCacheMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  const int max_pos = 2100;
  for (const AttentionCase& ac : {AttentionCase{4, 2, 128, 0, 0.0f}, AttentionCase{4, 4, 64, 1500, 30.0f},
                                  AttentionCase{2, 1, 256, 0, 0.0f}}) {
    const int hd = ac.head_dim, nkv = ac.n_kv_heads, nh = ac.n_heads;
    const HostKvCache kv = random_kv_cache(c.ctx, max_pos, nkv, hd, 41, 2.0f);
    const KvRef& cache = kv.ref;
    auto [cp, gp] = attention_params(ac);
    Device<std::uint16_t> d_k(kv.k), d_v(kv.v);
    gp.k_cache = d_k.ptr;
    gp.v_cache = d_v.ptr;
    const int max_splits = decode_max_splits(max_pos);
    Device<float> d_partial(std::vector<float>(static_cast<std::size_t>(nh * max_splits * (hd + 2))));
    Device<unsigned> d_counters(std::vector<unsigned>(static_cast<std::size_t>(nh), 0));
    for (std::int32_t position : {2099, 1029, 1024, 7}) {
      auto q = random_floats(static_cast<std::size_t>(nh * hd), 43 + position, -2.0f, 2.0f);
      std::vector<float> ref(q.size());
      attention(c.ctx, cp, q.data(), 1, &position, cache, ref.data());
      Device<float> d_q(q), d_out(std::vector<float>(q.size(), NAN));
      Device<std::int32_t> d_pos(std::vector<std::int32_t>{position});
      for (int split_keys : {kDecodeCluster, 0, 32, 64, 128}) {
        attention_decode(gp, nullptr, d_q.ptr, d_pos.ptr, max_splits, d_partial.ptr, d_counters.ptr, d_out.ptr, nullptr,
                         split_keys);
        EXPECT_LT(rel_error(d_out.get(), ref), 2e-4)
            << "hd " << hd << " window " << ac.window << " position " << position << " split " << split_keys;
      }
    }
  }
}

// A prefill chunk as the engine runs it: consecutive positions after an earlier chunk, long
// enough for several blocks of queries and several key tiles per query, with a last block
// partly past the chunk; the tensor-core kernel (and the dispatcher) against the CPU op.
TEST(AttentionCuda, AttentionPrefillChunkMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  // The f16-product kernel's tiles that every row of a warp sees skip the mask: with no softcap,
  // also under a sliding window (Mistral's layout, head_dim 128), where a tile opens only past
  // every row's window start.
  for (const AttentionCase& ac : {AttentionCase{32, 8, 128, 0, 0.0f}, AttentionCase{8, 4, 256, 100, 30.0f},
                                  AttentionCase{12, 2, 64, 0, 0.0f}, AttentionCase{6, 3, 96, 0, 0.0f},
                                  AttentionCase{8, 2, 128, 50, 20.0f}, AttentionCase{8, 2, 128, 150, 0.0f}}) {
    const int hd = ac.head_dim, nkv = ac.n_kv_heads, nh = ac.n_heads;
    const int first = 70, T = 230, max_pos = first + T;
    const HostKvCache kv = random_kv_cache(c.ctx, max_pos, nkv, hd, 31, 2.0f);
    const KvRef& cache = kv.ref;
    auto [cp, gp] = attention_params(ac);
    std::vector<std::int32_t> positions(T);
    for (int t = 0; t < T; ++t) positions[t] = first + t;
    auto q = random_floats(static_cast<std::size_t>(T * nh * hd), 33, -2.0f, 2.0f);
    std::vector<float> ref(q.size());
    attention(c.ctx, cp, q.data(), T, positions.data(), cache, ref.data());
    Device<std::uint16_t> d_k(kv.k), d_v(kv.v);
    gp.k_cache = d_k.ptr;
    gp.v_cache = d_v.ptr;
    Device<float> d_q(q), d_tc(std::vector<float>(q.size())), d_any(std::vector<float>(q.size()));
    Device<std::int32_t> d_pos(positions);
    Device<std::uint16_t> d_half(std::vector<std::uint16_t>(q.size()));
    EXPECT_TRUE(attention_prefill_tc(gp, d_q.ptr, d_pos.ptr, T, d_tc.ptr, d_half.ptr, DType::F16, nullptr));
    const std::vector<float> tc = d_tc.get();
    EXPECT_LT(rel_error(tc, ref), 2e-4) << "tensor-core prefill hd " << hd << " window " << ac.window;
    const std::vector<std::uint16_t> halves = d_half.get();
    double worst_half = 0;
    for (std::size_t i = 0; i < tc.size(); ++i) {
      worst_half = std::max(worst_half, std::abs(static_cast<double>(f16_to_f32(halves[i])) - tc[i]));
    }
    EXPECT_LT(worst_half, 2e-3) << "f16 copy of the output, hd " << hd;
    attention_prefill(gp, d_q.ptr, d_pos.ptr, T, d_any.ptr, nullptr, DType::F16, false, nullptr);
    EXPECT_LT(rel_error(d_any.get(), ref), 2e-4) << "dispatched prefill hd " << hd;
    // f16 products (query and softmax weights rounded to f16 once): head_dim 64 and 128 only.
    Device<float> d_f16(std::vector<float>(q.size()));
    Device<std::uint16_t> d_f16_half(std::vector<std::uint16_t>(q.size()));
    const bool f16_kernel =
        attention_prefill_f16(gp, d_q.ptr, d_pos.ptr, T, d_f16.ptr, d_f16_half.ptr, DType::F16, nullptr, 1, 1);
    EXPECT_EQ(f16_kernel, hd == 64 || hd == 128) << "hd " << hd;
    if (f16_kernel) {
      const std::vector<float> f16 = d_f16.get();
      EXPECT_LT(rel_error(f16, ref), 4e-3) << "f16-product prefill hd " << hd << " window " << ac.window;
      const std::vector<std::uint16_t> f16_halves = d_f16_half.get();
      double worst = 0;
      for (std::size_t i = 0; i < f16.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(f16_to_f32(f16_halves[i])) - f16[i]));
      }
      EXPECT_LT(worst, 2e-3) << "f16 copy of the f16-product output, hd " << hd;
    }
    Device<float> d_f16x2(std::vector<float>(q.size()));
    EXPECT_EQ(attention_prefill_f16(gp, d_q.ptr, d_pos.ptr, T, d_f16x2.ptr, nullptr, DType::F16, nullptr, 2, 1), f16_kernel);
    if (f16_kernel) {
      // The two-stage (cp.async) variant computes the same products in the same order.
      EXPECT_EQ(d_f16x2.get(), d_f16.get()) << "two-stage f16-product prefill hd " << hd;
    }
    // Two key groups a block (every other key tile each, merged at the end): the same products,
    // but each group rounds its softmax weights to f16 against its own running max, so the two
    // differ by f16 roundings (measured on an H100: 7.5e-5 to 1.3e-4 relative).
    Device<float> d_groups(std::vector<float>(q.size()));
    Device<std::uint16_t> d_groups_half(std::vector<std::uint16_t>(q.size()));
    EXPECT_EQ(attention_prefill_f16(gp, d_q.ptr, d_pos.ptr, T, d_groups.ptr, d_groups_half.ptr, DType::F16, nullptr, 1, 2),
              f16_kernel);
    if (f16_kernel) {
      const std::vector<float> groups = d_groups.get();
      EXPECT_LT(rel_error(groups, ref), 4e-3) << "two-group f16-product prefill hd " << hd << " window " << ac.window;
      EXPECT_LT(rel_error(groups, d_f16.get()), 1e-3) << "two-group against one-group f16-product prefill hd " << hd;
      const std::vector<std::uint16_t> group_halves = d_groups_half.get();
      double worst = 0;
      for (std::size_t i = 0; i < groups.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(f16_to_f32(group_halves[i])) - groups[i]));
      }
      EXPECT_LT(worst, 2e-3) << "f16 copy of the two-group output, hd " << hd;
      EXPECT_THROW(attention_prefill_f16(gp, d_q.ptr, d_pos.ptr, T, d_groups.ptr, nullptr, DType::F16, nullptr, 2, 2),
                   Error);
    }
    Device<float> d_any16(std::vector<float>(q.size()));
    attention_prefill(gp, d_q.ptr, d_pos.ptr, T, d_any16.ptr, nullptr, DType::F16, true, nullptr);
    EXPECT_LT(rel_error(d_any16.get(), ref), 4e-3) << "dispatched f16-product prefill hd " << hd;
  }
}

// The decode step's attention kernel given the QKV projection instead of a query: it adds the
// bias, ropes q and k at the position, writes k and v into the cache and attends — against the CPU
// doing the same in its separate ops. Positions with one split (direct output) and several (the
// last block merges, then resets its counter: the same counters serve every call).
TEST(AttentionCuda, DecodeAttentionFromQkvMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  const int max_pos = 300;
  for (auto [nh, nkv, hd, neox] : {std::tuple{8, 2, 128, true}, std::tuple{4, 4, 64, false}}) {
    const int width = (nh + 2 * nkv) * hd;
    // Earlier positions' keys and values, the same f16 bytes on both sides.
    auto k_old = random_floats(static_cast<std::size_t>(max_pos * nkv * hd), 21);
    auto v_old = random_floats(k_old.size(), 22);
    std::vector<std::uint16_t> k_cache(k_old.size()), v_cache(v_old.size());
    KvRef cpu_cache{DType::F16, k_cache.data(), v_cache.data(), nkv, hd, max_pos};
    kv_store(c.ctx, cpu_cache, 0, max_pos, k_old.data(), v_old.data());
    Device<std::uint16_t> d_k(k_cache), d_v(v_cache);
    auto bias = random_floats(static_cast<std::size_t>(width), 23, -0.1f, 0.1f);
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / hd));
    Device<float> d_bias(bias), d_freq(inv_freq);
    const int max_splits = decode_max_splits(max_pos);
    Device<float> d_partial(std::vector<float>(static_cast<std::size_t>(nh * max_splits * (hd + 2))));
    Device<unsigned> d_counters(std::vector<unsigned>(static_cast<std::size_t>(nh), 0));
    AttentionParams cp;
    cp.n_heads = nh;
    cp.n_kv_heads = nkv;
    cp.head_dim = hd;
    cp.scale = 1.0f / std::sqrt(static_cast<float>(hd));
    AttentionCudaParams gp;
    gp.n_heads = nh;
    gp.n_kv_heads = nkv;
    gp.head_dim = hd;
    gp.scale = cp.scale;
    gp.k_cache = d_k.ptr;
    gp.v_cache = d_v.ptr;
    for (std::int32_t position : {50, 299, 130, 0}) {
      auto qkv = random_floats(static_cast<std::size_t>(width), 24 + position);
      std::vector<float> q(nh * hd), k(nkv * hd), v(nkv * hd);
      for (int i = 0; i < width; ++i) {
        const float val = qkv[i] + bias[i];
        if (i < nh * hd) q[i] = val;
        else if (i < (nh + nkv) * hd) k[i - nh * hd] = val;
        else v[i - (nh + nkv) * hd] = val;
      }
      const RopeLayout layout = neox ? RopeLayout::kNeox : RopeLayout::kNormal;
      rope(c.ctx, q.data(), 1, nh, hd, &position, inv_freq.data(), layout, 1.0f);
      rope(c.ctx, k.data(), 1, nkv, hd, &position, inv_freq.data(), layout, 1.0f);
      kv_store(c.ctx, cpu_cache, position, 1, k.data(), v.data());
      std::vector<float> ref(static_cast<std::size_t>(nh * hd));
      attention(c.ctx, cp, q.data(), 1, &position, cpu_cache, ref.data());

      Device<float> d_qkv(qkv), d_out(std::vector<float>(ref.size(), NAN));
      Device<std::int32_t> d_pos(std::vector<std::int32_t>{position});
      RopeKvParams r;
      r.n_tokens = 1;
      r.n_heads = nh;
      r.n_kv_heads = nkv;
      r.head_dim = hd;
      r.qkv = d_qkv.ptr;
      r.bias = d_bias.ptr;
      r.inv_freq = d_freq.ptr;
      r.neox = neox;
      r.positions = d_pos.ptr;
      r.k_cache = d_k.ptr;
      r.v_cache = d_v.ptr;
      // The cluster kernel (sm_90), the automatic choice, and each split size of the split-K
      // 16-byte-load kernel (the lane-per-key kernel has one); the cache row written is the same each time.
      for (int split_keys : {kDecodeCluster, 0, 32, 64, 128}) {
        attention_decode(gp, &r, nullptr, nullptr, max_splits, d_partial.ptr, d_counters.ptr, d_out.ptr, nullptr,
                         split_keys);
        EXPECT_LT(rel_error(d_out.get(), ref), 2e-4) << "hd " << hd << " position " << position << " split " << split_keys;
      }
      const auto gk = d_k.get(), gv = d_v.get();
      int k_mismatch = 0, v_mismatch = 0;
      for (std::size_t i = 0; i < k_cache.size(); ++i) {
        k_mismatch += std::fabs(f16_to_f32(gk[i]) - f16_to_f32(k_cache[i])) > 1e-3f;
        v_mismatch += gv[i] != v_cache[i];
      }
      EXPECT_EQ(k_mismatch, 0) << "position " << position;
      EXPECT_EQ(v_mismatch, 0) << "position " << position;
      EXPECT_EQ(d_counters.get(), std::vector<unsigned>(static_cast<std::size_t>(nh), 0)) << "counters reset";
    }
  }
}

}  // namespace
}  // namespace eaq::kernels::cuda
