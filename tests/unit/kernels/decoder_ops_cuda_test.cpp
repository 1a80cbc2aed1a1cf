// The CUDA engine's decoder kernels (kernels/cuda/decoder_ops.h) against the CPU ops of
// kernels/ops.h on the same inputs: fused add + RMSNorm, bias + RoPE + KV write (normal and neox
// layouts), SwiGLU / GeGLU, the embedding lookup, the greedy argmax bookkeeping, and the small
// element-wise kernels (softcap, bias add, f32 -> f16/bf16 plain and split, the prefill's
// per-column scale) against their formulas (attention:
// attention_cuda_test.cpp; the f16/bf16 matvec: half_matvec_cuda_test.cpp). Bar: max |gpu - cpu| /
// max(1, max |cpu|) < 1e-4 (f32 arithmetic in a different order).
// Skips without a GPU.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/ops.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"
#include "gemv_test_shapes.h"

namespace eaq::kernels::cuda {
namespace {

using test::CpuContext;
using test::Device;
using test::have_gpu;
using test::random_floats;
using test::rel_error;

TEST(DecoderOpsCuda, AddRmsNormMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (int dim : {64, 172, 2048}) {
    const int rows = 5;
    auto x = random_floats(static_cast<std::size_t>(rows * dim), 1);
    auto delta = random_floats(x.size(), 2);
    auto weight = random_floats(static_cast<std::size_t>(dim), 3, 0.5f, 1.5f);
    std::vector<float> sum(x.size()), ref(x.size());
    add(c.ctx, x.data(), delta.data(), sum.data(), static_cast<std::int64_t>(x.size()));
    rms_norm(c.ctx, sum.data(), weight.data(), 1.0f, 1e-6f, rows, dim, ref.data());
    Device<float> dx(x), dd(delta), dw(weight), dy(std::vector<float>(x.size()));
    add_rms_norm(dx.ptr, dd.ptr, dw.ptr, 1.0f, 1e-6f, rows, dim, dy.ptr, nullptr, DType::F16, nullptr);
    EXPECT_LT(rel_error(dy.get(), ref), 1e-4) << "dim " << dim;
    EXPECT_LT(rel_error(dx.get(), sum), 1e-6) << "residual written back, dim " << dim;
  }
}

// The 16-bit copy alone (y == nullptr, as a prefill's GEMM input), f16 and bf16, on the vector
// kernel (dim % 4 == 0) and the scalar one (dim 66): each value the rounding of the CPU's.
TEST(DecoderOpsCuda, AddRmsNormWritesTheHalfCopyAlone) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (DType dtype : {DType::F16, DType::BF16}) {
    for (int dim : {66, 2048}) {
      const int rows = 3;
      auto x = random_floats(static_cast<std::size_t>(rows * dim), 11);
      auto delta = random_floats(x.size(), 12);
      auto weight = random_floats(static_cast<std::size_t>(dim), 13, 0.5f, 1.5f);
      std::vector<float> sum(x.size()), ref(x.size());
      add(c.ctx, x.data(), delta.data(), sum.data(), static_cast<std::int64_t>(x.size()));
      rms_norm(c.ctx, sum.data(), weight.data(), 0.0f, 1e-6f, rows, dim, ref.data());
      Device<float> dx(x), dd(delta), dw(weight);
      Device<std::uint16_t> dh(std::vector<std::uint16_t>(x.size(), 0xFFFF));
      add_rms_norm(dx.ptr, dd.ptr, dw.ptr, 0.0f, 1e-6f, rows, dim, nullptr, dh.ptr, dtype, nullptr);
      const auto h = dh.get();
      std::vector<float> got(h.size());
      for (std::size_t i = 0; i < h.size(); ++i) got[i] = dtype == DType::BF16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
      // One 16-bit rounding: 2^-11 (f16) or 2^-8 (bf16) of the value, plus the f32 bar.
      EXPECT_LT(rel_error(got, ref), dtype == DType::BF16 ? 8e-3 : 1e-3) << dtype_name(dtype) << " dim " << dim;
      EXPECT_LT(rel_error(dx.get(), sum), 1e-6) << "residual written back, dim " << dim;
    }
  }
  float* none = nullptr;
  EXPECT_THROW(add_rms_norm(none, nullptr, none, 0.0f, 1e-6f, 1, 64, nullptr, nullptr, DType::F16, nullptr),
               eaq::Error);
}

// RoPE's inverse frequencies for head_dim hd, base 10000.
std::vector<float> rope_inv_freq(int hd) {
  std::vector<float> inv_freq(hd / 2);
  for (int i = 0; i < hd / 2; ++i) inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / hd));
  return inv_freq;
}

// 4 and 14 heads of 64 and 128 dims, with and without gemma3's per-head q/k RMSNorm, normal and
// neox layouts, bias, an attention factor.
TEST(DecoderOpsCuda, RopeKvWriteMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  struct Case {
    int nh, nkv, hd;
    bool norms;
  };
  // The register kernel (head_dim 64/128/256, the default) and the shared-memory one (other sizes,
  // 96 here; EAQ_CUDA_ROPE_VEC=0 for all).
  for (const char* vec : {"1", "0"}) {
    setenv("EAQ_CUDA_ROPE_VEC", vec, 1);
    for (const Case& cs : {Case{4, 2, 64, false}, Case{12, 2, 128, false}, Case{4, 2, 64, true}, Case{2, 1, 256, true},
                           Case{4, 1, 128, true}, Case{2, 2, 96, true}}) {
      for (bool neox : {false, true}) {
        const int T = 3, nh = cs.nh, nkv = cs.nkv, hd = cs.hd, width = (nh + 2 * nkv) * hd, max_pos = 16;
        const float factor = cs.norms ? 1.0f : 1.25f, offset = 1.0f, eps = 1e-6f;
        auto qkv = random_floats(static_cast<std::size_t>(T * width), 4);
        auto bias = random_floats(static_cast<std::size_t>(width), 5, -0.1f, 0.1f);
        auto q_norm = random_floats(static_cast<std::size_t>(hd), 8, -0.5f, 0.5f);
        auto k_norm = random_floats(static_cast<std::size_t>(hd), 9, -0.5f, 0.5f);
        const std::vector<float> inv_freq = rope_inv_freq(hd);
        const std::vector<std::int32_t> positions = {7, 8, 9};
        // CPU: bias, the per-head norms, then RoPE on q and k, k and v into an f16 cache.
        std::vector<float> q(T * nh * hd), k(T * nkv * hd), v(T * nkv * hd);
        for (int t = 0; t < T; ++t) {
          for (int i = 0; i < width; ++i) {
            const float val = qkv[t * width + i] + bias[i];
            if (i < nh * hd) q[t * nh * hd + i] = val;
            else if (i < (nh + nkv) * hd) k[t * nkv * hd + i - nh * hd] = val;
            else v[t * nkv * hd + i - (nh + nkv) * hd] = val;
          }
        }
        if (cs.norms) {
          rms_norm(c.ctx, q.data(), q_norm.data(), offset, eps, T * nh, hd, q.data());
          rms_norm(c.ctx, k.data(), k_norm.data(), offset, eps, T * nkv, hd, k.data());
        }
        const RopeLayout layout = neox ? RopeLayout::kNeox : RopeLayout::kNormal;
        rope(c.ctx, q.data(), T, nh, hd, positions.data(), inv_freq.data(), layout, factor);
        rope(c.ctx, k.data(), T, nkv, hd, positions.data(), inv_freq.data(), layout, factor);
        std::vector<std::uint16_t> k_cache(max_pos * nkv * hd, 0), v_cache(max_pos * nkv * hd, 0);
        KvRef cpu_cache{DType::F16, k_cache.data(), v_cache.data(), nkv, hd, max_pos};
        kv_store(c.ctx, cpu_cache, positions[0], T, k.data(), v.data());

        Device<float> d_qkv(qkv), d_bias(bias), d_freq(inv_freq), d_q(std::vector<float>(q.size()));
        Device<float> d_qn(q_norm), d_kn(k_norm);
        Device<std::int32_t> d_pos(positions);
        Device<std::uint16_t> d_k(std::vector<std::uint16_t>(k_cache.size(), 0)), d_v(std::vector<std::uint16_t>(v_cache.size(), 0));
        RopeKvParams p;
        p.n_tokens = T;
        p.n_heads = nh;
        p.n_kv_heads = nkv;
        p.head_dim = hd;
        p.qkv = d_qkv.ptr;
        p.bias = d_bias.ptr;
        if (cs.norms) {
          p.q_norm = d_qn.ptr;
          p.k_norm = d_kn.ptr;
          p.norm_offset = offset;
          p.norm_eps = eps;
        }
        p.inv_freq = d_freq.ptr;
        p.neox = neox;
        p.attention_factor = factor;
        p.positions = d_pos.ptr;
        p.q_out = d_q.ptr;
        p.k_cache = d_k.ptr;
        p.v_cache = d_v.ptr;
        rope_kv_write(p, nullptr);
        const std::string what = std::string(neox ? "neox" : "normal") + " heads " + std::to_string(nh) + "/" +
                                 std::to_string(nkv) + " dim " + std::to_string(hd) + (cs.norms ? " q/k norms" : "") +
                                 " EAQ_CUDA_ROPE_VEC=" + vec;
        EXPECT_LT(rel_error(d_q.get(), q), 1e-5) << what;
        const auto gk = d_k.get(), gv = d_v.get();
        int k_mismatch = 0, v_mismatch = 0;
        for (std::size_t i = 0; i < k_cache.size(); ++i) {
          k_mismatch += std::fabs(f16_to_f32(gk[i]) - f16_to_f32(k_cache[i])) > 1e-3f;
          v_mismatch += gv[i] != v_cache[i];
        }
        EXPECT_EQ(k_mismatch, 0) << what;
        EXPECT_EQ(v_mismatch, 0) << what;
      }
    }
  }
  unsetenv("EAQ_CUDA_ROPE_VEC");
}

// The prefill's f16 q|k|v GEMM output read directly (RopeKvParams::qkv_f16): the same kernel on
// the same values as f32 (each exact in f16) gives the same bits; the shared-memory kernel refuses
// it.
TEST(DecoderOpsCuda, RopeKvWriteReadsF16Qkv) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  for (int hd : {64, 128, 256}) {
    for (bool norms : {false, true}) {
      const int T = 5, nh = 4, nkv = 2, width = (nh + 2 * nkv) * hd, max_pos = 16;
      auto qkv = random_floats(static_cast<std::size_t>(T * width), 14, -3.0f, 3.0f);
      std::vector<std::uint16_t> qkv_half(qkv.size());
      for (std::size_t i = 0; i < qkv.size(); ++i) {
        qkv_half[i] = f32_to_f16(qkv[i]);
        qkv[i] = f16_to_f32(qkv_half[i]);
      }
      auto bias = random_floats(static_cast<std::size_t>(width), 15, -0.1f, 0.1f);
      auto q_norm = random_floats(static_cast<std::size_t>(hd), 18, -0.5f, 0.5f);
      auto k_norm = random_floats(static_cast<std::size_t>(hd), 19, -0.5f, 0.5f);
      const std::vector<float> inv_freq = rope_inv_freq(hd);
      Device<float> d_qkv(qkv), d_bias(bias), d_freq(inv_freq), d_qn(q_norm), d_kn(k_norm);
      Device<std::uint16_t> d_qkv_half(qkv_half);
      Device<std::int32_t> d_pos(std::vector<std::int32_t>{3, 4, 5, 6, 7});
      RopeKvParams p;
      p.n_tokens = T;
      p.n_heads = nh;
      p.n_kv_heads = nkv;
      p.head_dim = hd;
      p.bias = d_bias.ptr;
      if (norms) {
        p.q_norm = d_qn.ptr;
        p.k_norm = d_kn.ptr;
        p.norm_offset = 1.0f;
      }
      p.inv_freq = d_freq.ptr;
      p.positions = d_pos.ptr;
      const std::size_t cache = static_cast<std::size_t>(max_pos * nkv * hd);
      Device<float> q32(std::vector<float>(static_cast<std::size_t>(T * nh * hd))), q16(q32.get());
      Device<std::uint16_t> k32(std::vector<std::uint16_t>(cache, 0)), v32(k32.get()), k16(k32.get()), v16(k32.get());
      p.qkv = d_qkv.ptr;
      p.q_out = q32.ptr;
      p.k_cache = k32.ptr;
      p.v_cache = v32.ptr;
      rope_kv_write(p, nullptr);
      p.qkv = reinterpret_cast<const float*>(d_qkv_half.ptr);
      p.qkv_f16 = true;
      p.q_out = q16.ptr;
      p.k_cache = k16.ptr;
      p.v_cache = v16.ptr;
      ASSERT_TRUE(rope_reads_f16_qkv(hd));
      rope_kv_write(p, nullptr);
      const std::string what = "dim " + std::to_string(hd) + (norms ? " q/k norms" : "");
      EXPECT_EQ(q16.get(), q32.get()) << what;
      EXPECT_EQ(k16.get(), k32.get()) << what;
      EXPECT_EQ(v16.get(), v32.get()) << what;
      setenv("EAQ_CUDA_ROPE_VEC", "0", 1);
      EXPECT_FALSE(rope_reads_f16_qkv(hd));
      EXPECT_THROW(rope_kv_write(p, nullptr), Error) << what;
      unsetenv("EAQ_CUDA_ROPE_VEC");
    }
  }
}

TEST(DecoderOpsCuda, GatedActivationsMatchCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  const int T = 3, inter = 172;
  auto gate_up = random_floats(static_cast<std::size_t>(T * 2 * inter), 6, -4.0f, 4.0f);
  std::vector<float> gate(T * inter), up(T * inter);
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < inter; ++i) {
      gate[t * inter + i] = gate_up[t * 2 * inter + i];
      up[t * inter + i] = gate_up[t * 2 * inter + inter + i];
    }
  }
  for (bool gelu : {false, true}) {
    std::vector<float> ref(T * inter);
    if (gelu) geglu_tanh(c.ctx, gate.data(), up.data(), ref.data(), T * inter);
    else swiglu(c.ctx, gate.data(), up.data(), ref.data(), T * inter);
    Device<float> d_gu(gate_up), d_out(std::vector<float>(ref.size()));
    gated_activation(d_gu.ptr, T, inter, gelu, d_out.ptr, nullptr, DType::F16, nullptr);
    EXPECT_LT(rel_error(d_out.get(), ref), 1e-5) << (gelu ? "geglu" : "swiglu");
  }
}

// The scalar kernel (inter not a multiple of 4) and the 16-bit copy alone (out == nullptr, as the
// prefill's down GEMM input) and beside the f32 output, f16 and bf16.
TEST(DecoderOpsCuda, GatedActivationsWriteTheHalfCopy) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (int inter : {170, 172}) {
    const int T = 3;
    auto gate_up = random_floats(static_cast<std::size_t>(T * 2 * inter), 16, -4.0f, 4.0f);
    std::vector<float> gate(T * inter), up(T * inter), ref(T * inter);
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < inter; ++i) {
        gate[t * inter + i] = gate_up[t * 2 * inter + i];
        up[t * inter + i] = gate_up[t * 2 * inter + inter + i];
      }
    }
    swiglu(c.ctx, gate.data(), up.data(), ref.data(), T * inter);
    for (DType dtype : {DType::F16, DType::BF16}) {
      for (bool with_f32 : {false, true}) {
        Device<float> d_gu(gate_up), d_out(std::vector<float>(ref.size()));
        Device<std::uint16_t> d_half(std::vector<std::uint16_t>(ref.size(), 0xFFFF));
        gated_activation(d_gu.ptr, T, inter, false, with_f32 ? d_out.ptr : nullptr, d_half.ptr, dtype, nullptr);
        const auto h = d_half.get();
        std::vector<float> got(h.size());
        for (std::size_t i = 0; i < h.size(); ++i) got[i] = dtype == DType::BF16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
        EXPECT_LT(rel_error(got, ref), dtype == DType::BF16 ? 8e-3 : 1e-3) << dtype_name(dtype) << " inter " << inter;
        if (with_f32) {
          EXPECT_LT(rel_error(d_out.get(), ref), 1e-5) << "inter " << inter;
        }
      }
    }
  }
  EXPECT_THROW(gated_activation(nullptr, 1, 4, false, nullptr, nullptr, DType::F16, nullptr), eaq::Error);
}

// The activation from an f16 gate|up (the prefill GEMM's f16 output): the 4-wide kernel (inter
// 172) and the scalar one (170), SwiGLU and GeGLU, against the CPU ops on the same f16 values.
TEST(DecoderOpsCuda, GatedActivationReadsF16GateUp) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  CpuContext c;
  for (int inter : {170, 172}) {
    for (bool gelu : {false, true}) {
      const int T = 5;
      const auto values = random_floats(static_cast<std::size_t>(T * 2 * inter), 21, -4.0f, 4.0f);
      std::vector<std::uint16_t> bits(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) bits[i] = f32_to_f16(values[i]);
      std::vector<float> gate(T * inter), up(T * inter), ref(T * inter);
      for (int t = 0; t < T; ++t) {
        for (int i = 0; i < inter; ++i) {
          gate[t * inter + i] = f16_to_f32(bits[t * 2 * inter + i]);
          up[t * inter + i] = f16_to_f32(bits[t * 2 * inter + inter + i]);
        }
      }
      if (gelu) geglu_tanh(c.ctx, gate.data(), up.data(), ref.data(), T * inter);
      else swiglu(c.ctx, gate.data(), up.data(), ref.data(), T * inter);
      Device<std::uint16_t> d_gu(bits), d_half(std::vector<std::uint16_t>(ref.size(), 0xFFFF));
      Device<float> d_out(std::vector<float>(ref.size(), NAN));
      gated_activation_f16_in(d_gu.ptr, T, inter, gelu, d_out.ptr, d_half.ptr, DType::F16, nullptr);
      EXPECT_LT(rel_error(d_out.get(), ref), 1e-5) << (gelu ? "geglu" : "swiglu") << " inter " << inter;
      const auto h = d_half.get();
      std::vector<float> got(h.size());
      for (std::size_t i = 0; i < h.size(); ++i) got[i] = f16_to_f32(h[i]);
      EXPECT_LT(rel_error(got, ref), 1e-3) << (gelu ? "geglu" : "swiglu") << " inter " << inter;
    }
  }
}

// embedding_lookup on the GPU: f16 and f32 tables, the 8-wide kernel (dim 2048) and the scalar one
// (dim 66), three tokens, a scale: each row the table's row times the scale, exactly.
TEST(DecoderOpsCuda, EmbeddingLookupCopiesScaledRows) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  for (int dim : {66, 2048}) {
    const int vocab = 50;
    const float scale = std::sqrt(static_cast<float>(dim));
    const auto table = random_floats(static_cast<std::size_t>(vocab * dim), 50, -2.0f, 2.0f);
    std::vector<std::uint16_t> table_f16(table.size());
    for (std::size_t i = 0; i < table.size(); ++i) table_f16[i] = f32_to_f16(table[i]);
    const std::vector<std::int32_t> ids = {7, 0, 49};
    Device<std::int32_t> d_ids(ids);
    for (bool f32 : {false, true}) {
      Device<float> d_table(table), d_x(std::vector<float>(ids.size() * dim, NAN));
      Device<std::uint16_t> d_table16(table_f16);
      embedding_lookup(f32 ? static_cast<const void*>(d_table.ptr) : d_table16.ptr, f32 ? DType::F32 : DType::F16,
                       d_ids.ptr, static_cast<int>(ids.size()), dim, scale, d_x.ptr, nullptr);
      const auto x = d_x.get();
      int wrong = 0;
      for (std::size_t t = 0; t < ids.size(); ++t) {
        for (int i = 0; i < dim; ++i) {
          const std::size_t at = static_cast<std::size_t>(ids[t]) * dim + i;
          const float row = f32 ? table[at] : f16_to_f32(table_f16[at]);
          wrong += x[t * dim + i] != row * scale;
        }
      }
      EXPECT_EQ(wrong, 0) << (f32 ? "f32" : "f16") << " table, dim " << dim;
    }
  }
}

// The block argmax over vocabularies that split unevenly over 1024 threads: the first maximum
// wherever the maxima sit (one warp's lanes, two warps, the first and the last index), and 0 for
// a row of -inf.
TEST(DecoderOpsCuda, ArgmaxFindsTheFirstMaximumAnywhere) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  struct Case {
    int vocab;
    std::vector<int> maxima;  // indices holding the maximum; the first is expected
  };
  const std::vector<Case> cases = {{32000, {31999}}, {32256, {0, 31000}}, {151936, {1025, 1026, 151935}},
                                   {1000, {999}}, {70000, {33, 65, 1057}}};
  for (const Case& cs : cases) {
    std::vector<float> logits = random_floats(static_cast<std::size_t>(cs.vocab), 51, -5.0f, 5.0f);
    for (int i : cs.maxima) logits[static_cast<std::size_t>(i)] = 7.5f;
    Device<float> d_logits(logits);
    Device<std::int32_t> state(std::vector<std::int32_t>{0, 0, 0});
    argmax_next_token(d_logits.ptr, cs.vocab, state.ptr, nullptr, state.ptr + 2, state.ptr + 1, nullptr);
    EXPECT_EQ(state.get()[0], cs.maxima.front()) << "vocab " << cs.vocab;
  }
  std::vector<float> all_inf(5000, -INFINITY);
  Device<float> d_inf(all_inf);
  Device<std::int32_t> state(std::vector<std::int32_t>{9, 0, 0});
  argmax_next_token(d_inf.ptr, 5000, state.ptr, nullptr, state.ptr + 2, state.ptr + 1, nullptr);
  EXPECT_EQ(state.get()[0], 0);
}

TEST(DecoderOpsCuda, ArgmaxPicksFirstMaximumAndAdvances) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  std::vector<float> logits(70000, -1.0f);
  logits[4242] = 3.0f;
  logits[60000] = 3.0f;  // a tie: the lower index wins
  Device<float> d_logits(logits);
  Device<std::int32_t> state(std::vector<std::int32_t>{0, 41, 2});  // token, position, step
  Device<std::int32_t> out(std::vector<std::int32_t>(4, -1));
  argmax_next_token(d_logits.ptr, static_cast<int>(logits.size()), state.ptr, out.ptr, state.ptr + 2, state.ptr + 1,
                    nullptr);
  const auto s = state.get();
  const auto o = out.get();
  EXPECT_EQ(s[0], 4242);
  EXPECT_EQ(s[1], 42);
  EXPECT_EQ(s[2], 3);
  EXPECT_EQ(o[2], 4242);
}

// The element-wise kernels (elementwise.cu; scale_columns: dequantize_f16.cu) against their
// formulas on the host: softcap within f32 rounding of tanh, the bias add and column scale
// exactly, the 16-bit conversions bit for bit (round to nearest even, core/half.h), and a split's
// parts each the rounding of what the parts before it leave.
TEST(DecoderOpsCuda, ElementwiseOpsMatchTheirFormulas) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  const int rows = 7, n = 1000;  // n not a multiple of the block: the tail runs
  const std::size_t size = static_cast<std::size_t>(rows) * n;
  auto x = random_floats(size, 11, -60.0f, 60.0f);
  x[3] = 1e-6f;     // f16 subnormal
  x[4] = 70000.0f;  // past f16's range: inf
  {
    Device<float> d(x);
    softcap(d.ptr, static_cast<std::int64_t>(size), 30.0f, nullptr);
    std::vector<float> ref(size);
    for (std::size_t i = 0; i < size; ++i) ref[i] = 30.0f * std::tanh(x[i] / 30.0f);
    EXPECT_LT(rel_error(d.get(), ref), 1e-6) << "softcap";
  }
  {
    const auto bias = random_floats(static_cast<std::size_t>(n), 12);
    const auto y0 = random_floats(size, 13);
    Device<float> dy(y0), db(bias);
    add_bias(dy.ptr, db.ptr, rows, n, nullptr);
    const std::vector<float> got = dy.get();
    int wrong = 0;
    for (std::size_t i = 0; i < size; ++i) wrong += got[i] != y0[i] + bias[i % n];
    EXPECT_EQ(wrong, 0) << "add_bias";
  }
  {
    // scale_columns: rows of y `stride` apart, the first n_cols of each scaled, the rest untouched.
    const int stride = n + 24, n_cols = n;
    const auto y0 = random_floats(static_cast<std::size_t>(rows) * stride, 14);
    const auto scales = random_floats(static_cast<std::size_t>(n_cols), 15, 0.001f, 0.1f);
    Device<float> dy(y0), ds(scales);
    scale_columns(dy.ptr, stride, rows, ds.ptr, n_cols, nullptr);
    const std::vector<float> got = dy.get();
    int wrong = 0;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < stride; ++c) {
        const std::size_t i = static_cast<std::size_t>(r) * stride + c;
        wrong += got[i] != (c < n_cols ? y0[i] * scales[static_cast<std::size_t>(c)] : y0[i]);
      }
    }
    EXPECT_EQ(wrong, 0) << "scale_columns";
  }
  for (DType dtype : {DType::F16, DType::BF16}) {
    const bool bf16 = dtype == DType::BF16;
    const auto to16 = [&](float v) { return bf16 ? f32_to_bf16(v) : f32_to_f16(v); };
    const auto from16 = [&](std::uint16_t h) { return bf16 ? bf16_to_f32(h) : f16_to_f32(h); };
    Device<float> dx(x);
    const std::vector<std::uint16_t> zeros(size);
    Device<std::uint16_t> plain(zeros), hi(zeros), lo(zeros), lo2(zeros);
    to_half(dx.ptr, static_cast<std::int64_t>(size), plain.ptr, dtype, nullptr);
    to_half_split(dx.ptr, static_cast<std::int64_t>(size), hi.ptr, lo.ptr, dtype, nullptr, lo2.ptr);
    const auto p = plain.get(), h = hi.get(), l = lo.get(), l2 = lo2.get();
    int wrong = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const std::uint16_t eh = to16(x[i]);
      const bool finite = std::isfinite(from16(eh));
      const std::uint16_t el = finite ? to16(x[i] - from16(eh)) : l[i];  // past the range: lo unspecified
      const std::uint16_t el2 = finite ? to16(x[i] - from16(eh) - from16(el)) : l2[i];
      wrong += p[i] != eh || h[i] != eh || l[i] != el || l2[i] != el2;
    }
    EXPECT_EQ(wrong, 0) << "to_half / to_half_split, " << (bf16 ? "bf16" : "f16");
  }
}

}  // namespace
}  // namespace eaq::kernels::cuda
