// Workbench of the CUDA decoder's small kernels, in the style of llm.c's dev/cuda: it links the
// production kernels (kernels/cuda/decoder_ops.h), checks each against the CPU engine's op
// (kernels/ops.h) and times it on the DeepSeek-Coder-1.3B, R1-Distill-Qwen-1.5B and Llama-2-7B
// shapes, as the decode step (1 token) and the 512-token prefill call them:
//
//   add_rms_norm       decode: x read, y written; prefill: x += delta, y and its f16 copy written
//   gated_activation   SwiGLU of gate|up; prefill also writes the f16 copy
//   rope_kv_write      prefill: bias-free q|k|v, RoPE (neox) on q and k, k and v into the f16 cache
//   embedding_lookup   prefill: 512 rows of an f16 table
//   argmax_next_token  decode: argmax over the vocabulary, the step's bookkeeping
//   to_half, to_half_split  prefill: the 512 x hidden activations to f16 (split: hi and lo)
//   add_bias           prefill: a q|k|v bias on 512 rows
//   scale_columns      prefill: the per-channel scale on a 512-token int8 GEMM output (gate|up)
//   softcap            decode: the logits (gemma's final softcap)
//
// Then token sampling, timed as the engine pays for it each step (wall clock, host-issued, not in
// a graph): sample_token on the GPU plus the 4-byte copy of the token, against what host sampling
// costs — the logits row copied to host memory and the CPU op (kernels::sample_token, one
// thread) — for llama.cpp's default chain, top-p alone (every candidate kept and sorted) and
// greedy with a repetition penalty. "differ" counts draws where the two picked other tokens
// (possible only on a rounding boundary; the unit test sampling_cuda_test.cpp bounds it).
//
// us a call: the median of a CUDA graph of back-to-back calls over calls (the kernels' own
// programmatic dependent launch applies), on buffers that stay in L2 as a decode step's do.
// GB/s: the bytes the kernel reads and writes over that time, beside a device-to-device copy
// measured in the same run. max rel err: max |gpu - cpu| / max(1, max |cpu|) of one call.
//
//   bench_decoder_ops [--reps N]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/decoder_ops.h"
#include "float_vectors.h"  // tests/unit/kernels: the kernel tests' inputs and error measure
#include "kernels/ops.h"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
using eaq::workbench::graph_seconds_per_call;
using eaq::workbench::parse_reps;
using eaq::kernels::test::random_floats;
using eaq::kernels::test::rel_error;

namespace ek = eaq::kernels;
namespace kc = eaq::kernels::cuda;

constexpr int kPrefill = 512;
constexpr int kCalls = 20;

struct Shape {
  const char* name;
  int hidden, inter, heads, kv_heads, head_dim, vocab;
};

// A device buffer of n T's, uploaded from host or zeroed; freed at scope end.
template <class T>
struct Buffer {
  T* ptr = nullptr;
  std::size_t n = 0;
  explicit Buffer(std::size_t count) : n(count) {
    check(cudaMalloc(reinterpret_cast<void**>(&ptr), n * sizeof(T)), "cudaMalloc");
    check(cudaMemset(ptr, 0, n * sizeof(T)), "cudaMemset");
  }
  explicit Buffer(const std::vector<T>& host) : Buffer(host.size()) {
    check(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  ~Buffer() { cudaFree(ptr); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  std::vector<T> get() const {
    std::vector<T> out(n);
    check(cudaDeviceSynchronize(), "kernel");
    check(cudaMemcpy(out.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return out;
  }
};

std::vector<float> halves_to_floats(const std::vector<std::uint16_t>& h) {
  std::vector<float> f(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) f[i] = eaq::f16_to_f32(h[i]);
  return f;
}

void row(const Shape& s, const char* kernel, const char* call, double seconds, double bytes, double copy_bytes_per_s,
         double err) {
  const double gbps = bytes / seconds / 1e9;
  std::printf("| %s | %s | %s | %.2f | %.2f | %.0f | %.1f | %.2e |\n", s.name, kernel, call, seconds * 1e6, bytes / 1e6,
              gbps, 100.0 * bytes / seconds / copy_bytes_per_s, err);
}

void bench_shape(const Shape& s, const ek::KernelContext& ctx, int reps, double copy) {
  const int H = s.hidden, I = s.inter, hd = s.head_dim;
  const int width = (s.heads + 2 * s.kv_heads) * hd;

  // add_rms_norm, decode: y = x / rms(x) * w (the residual stream read alone).
  {
    auto x = random_floats(H, 1, -8.0f, 8.0f);
    auto w = random_floats(H, 2, 0.5f, 1.5f);
    std::vector<float> ref(H);
    ek::rms_norm(ctx, x.data(), w.data(), 0.0f, 1e-6f, 1, H, ref.data());
    Buffer<float> dx(x), dw(w), dy(static_cast<std::size_t>(H));
    kc::add_rms_norm(dx.ptr, nullptr, dw.ptr, 0.0f, 1e-6f, 1, H, dy.ptr, nullptr, eaq::DType::F16, nullptr);
    const double err = rel_error(dy.get(), ref);
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i)
            kc::add_rms_norm(dx.ptr, nullptr, dw.ptr, 0.0f, 1e-6f, 1, H, dy.ptr, nullptr, eaq::DType::F16, st);
        },
        kCalls, reps);
    row(s, "add_rms_norm", "decode", t, 3.0 * H * 4, copy, err);
  }
  // add_rms_norm, prefill: x += delta, y and its f16 copy.
  {
    const std::size_t n = static_cast<std::size_t>(kPrefill) * H;
    auto x = random_floats(n, 3, -8.0f, 8.0f);
    auto delta = random_floats(n, 4);
    auto w = random_floats(H, 5, 0.5f, 1.5f);
    std::vector<float> sum(n), ref(n);
    ek::add(ctx, x.data(), delta.data(), sum.data(), static_cast<std::int64_t>(n));
    ek::rms_norm(ctx, sum.data(), w.data(), 0.0f, 1e-6f, kPrefill, H, ref.data());
    Buffer<float> dx(x), dd(delta), dw(w), dy(n);
    Buffer<std::uint16_t> dh(n);
    kc::add_rms_norm(dx.ptr, dd.ptr, dw.ptr, 0.0f, 1e-6f, kPrefill, H, dy.ptr, dh.ptr, eaq::DType::F16, nullptr);
    const double err = std::max(rel_error(dy.get(), ref), rel_error(halves_to_floats(dh.get()), ref));
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i)
            kc::add_rms_norm(dx.ptr, dd.ptr, dw.ptr, 0.0f, 1e-6f, kPrefill, H, dy.ptr, dh.ptr, eaq::DType::F16, st);
        },
        kCalls, reps);
    row(s, "add_rms_norm", "prefill 512", t, static_cast<double>(n) * (4 + 4 + 4 + 4 + 2), copy, err);
  }
  // gated_activation (SwiGLU), decode and prefill (the prefill with its f16 copy).
  for (int T : {1, kPrefill}) {
    const std::size_t n = static_cast<std::size_t>(T) * I;
    auto gate_up = random_floats(2 * n, 6, -4.0f, 4.0f);
    std::vector<float> gate(n), up(n), ref(n);
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < I; ++i) {
        gate[static_cast<std::size_t>(t) * I + i] = gate_up[static_cast<std::size_t>(t) * 2 * I + i];
        up[static_cast<std::size_t>(t) * I + i] = gate_up[static_cast<std::size_t>(t) * 2 * I + I + i];
      }
    }
    ek::swiglu(ctx, gate.data(), up.data(), ref.data(), static_cast<std::int64_t>(n));
    Buffer<float> dgu(gate_up), dout(n);
    Buffer<std::uint16_t> dh(n);
    std::uint16_t* half_out = T > 1 ? dh.ptr : nullptr;
    kc::gated_activation(dgu.ptr, T, I, false, dout.ptr, half_out, eaq::DType::F16, nullptr);
    double err = rel_error(dout.get(), ref);
    if (half_out) err = std::max(err, rel_error(halves_to_floats(dh.get()), ref));
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::gated_activation(dgu.ptr, T, I, false, dout.ptr, half_out, eaq::DType::F16, st);
        },
        kCalls, reps);
    row(s, "gated_activation", T == 1 ? "decode" : "prefill 512", t, static_cast<double>(n) * (8 + 4 + (half_out ? 2 : 0)),
        copy, err);
  }
  // rope_kv_write, prefill: positions 0..511, q out in f32, k and v into an f16 cache.
  {
    const int T = kPrefill;
    auto qkv = random_floats(static_cast<std::size_t>(T) * width, 7);
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / hd));
    std::vector<std::int32_t> positions(T);
    for (int t = 0; t < T; ++t) positions[t] = t;
    const std::size_t qn = static_cast<std::size_t>(T) * s.heads * hd, kn = static_cast<std::size_t>(T) * s.kv_heads * hd;
    std::vector<float> q(qn), k(kn), v(kn);
    std::vector<std::uint16_t> k_cache(kn), v_cache(kn);
    ek::KvRef cpu_cache{eaq::DType::F16, k_cache.data(), v_cache.data(), s.kv_heads, hd, T};
    // The CPU engine's ops on the q|k|v values value(t, i): split, RoPE on q and k, k and v into
    // the f16 cache.
    auto cpu_reference = [&](auto&& value) {
      for (int t = 0; t < T; ++t) {
        for (int i = 0; i < width; ++i) {
          const float val = value(static_cast<std::size_t>(t) * width + i);
          if (i < s.heads * hd) q[static_cast<std::size_t>(t) * s.heads * hd + i] = val;
          else if (i < (s.heads + s.kv_heads) * hd) k[static_cast<std::size_t>(t) * s.kv_heads * hd + i - s.heads * hd] = val;
          else v[static_cast<std::size_t>(t) * s.kv_heads * hd + i - (s.heads + s.kv_heads) * hd] = val;
        }
      }
      ek::rope(ctx, q.data(), T, s.heads, hd, positions.data(), inv_freq.data(), ek::RopeLayout::kNeox, 1.0f);
      ek::rope(ctx, k.data(), T, s.kv_heads, hd, positions.data(), inv_freq.data(), ek::RopeLayout::kNeox, 1.0f);
      ek::kv_store(ctx, cpu_cache, 0, T, k.data(), v.data());
    };
    cpu_reference([&](std::size_t j) { return qkv[j]; });
    Buffer<float> dqkv(qkv), dfreq(inv_freq), dq(qn);
    Buffer<std::int32_t> dpos(positions);
    Buffer<std::uint16_t> dk(kn), dv(kn);
    kc::RopeKvParams p;
    p.n_tokens = T;
    p.n_heads = s.heads;
    p.n_kv_heads = s.kv_heads;
    p.head_dim = hd;
    p.qkv = dqkv.ptr;
    p.inv_freq = dfreq.ptr;
    p.neox = true;
    p.positions = dpos.ptr;
    p.q_out = dq.ptr;
    p.k_cache = dk.ptr;
    p.v_cache = dv.ptr;
    // One row: p's kernel checked against the CPU reference computed last, then timed; qkv_bytes
    // a value read.
    auto measure = [&](const char* what, double qkv_bytes) {
      kc::rope_kv_write(p, nullptr);
      const double err = std::max({rel_error(dq.get(), q), rel_error(halves_to_floats(dk.get()), halves_to_floats(k_cache)),
                                   rel_error(halves_to_floats(dv.get()), halves_to_floats(v_cache))});
      const double t = graph_seconds_per_call(
          [&](cudaStream_t st) {
            for (int i = 0; i < kCalls; ++i) kc::rope_kv_write(p, st);
          },
          kCalls, reps);
      row(s, "rope_kv_write", what, t, static_cast<double>(T) * width * qkv_bytes + qn * 4.0 + 2.0 * kn * 2, copy, err);
    };
    measure("prefill 512", 4);
    // The same from an f16 q|k|v (the f16 model's prefill GEMM output), against the CPU on the
    // f16-rounded values.
    std::vector<std::uint16_t> qkv_half(qkv.size());
    for (std::size_t i = 0; i < qkv.size(); ++i) qkv_half[i] = eaq::f32_to_f16(qkv[i]);
    cpu_reference([&](std::size_t j) { return eaq::f16_to_f32(qkv_half[j]); });
    Buffer<std::uint16_t> dqkv_half(qkv_half);
    p.qkv = reinterpret_cast<const float*>(dqkv_half.ptr);
    p.qkv_f16 = true;
    measure("prefill 512, f16 in", 2);
  }
  // embedding_lookup, prefill: 512 rows of an f16 [vocab][hidden] table.
  {
    const std::size_t table_n = static_cast<std::size_t>(s.vocab) * H;
    std::vector<std::uint16_t> table(table_n);
    std::mt19937 rng(8);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto& h : table) h = eaq::f32_to_f16(dist(rng));
    std::vector<std::int32_t> ids(kPrefill);
    for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<unsigned>(s.vocab));
    std::vector<float> ref(static_cast<std::size_t>(kPrefill) * H);
    for (int t = 0; t < kPrefill; ++t) {
      for (int i = 0; i < H; ++i) {
        ref[static_cast<std::size_t>(t) * H + i] = eaq::f16_to_f32(table[static_cast<std::size_t>(ids[t]) * H + i]);
      }
    }
    Buffer<std::uint16_t> dtable(table);
    Buffer<std::int32_t> dids(ids);
    Buffer<float> dx(ref.size());
    kc::embedding_lookup(dtable.ptr, eaq::DType::F16, dids.ptr, kPrefill, H, 1.0f, dx.ptr, nullptr);
    const double err = rel_error(dx.get(), ref);
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::embedding_lookup(dtable.ptr, eaq::DType::F16, dids.ptr, kPrefill, H, 1.0f, dx.ptr, st);
        },
        kCalls, reps);
    row(s, "embedding_lookup", "prefill 512", t, static_cast<double>(kPrefill) * H * (2 + 4), copy, err);
  }
  // to_half and to_half_split (f16), prefill: errors against the rounding of each value (the split's
  // hi + lo against x itself).
  {
    const std::size_t n = static_cast<std::size_t>(kPrefill) * H;
    auto x = random_floats(n, 31, -8.0f, 8.0f);
    Buffer<float> dx(x);
    Buffer<std::uint16_t> hi(n), lo(n);
    kc::to_half(dx.ptr, static_cast<std::int64_t>(n), hi.ptr, eaq::DType::F16, nullptr);
    std::vector<float> rounded(n);
    for (std::size_t i = 0; i < n; ++i) rounded[i] = eaq::f16_to_f32(eaq::f32_to_f16(x[i]));
    double err = rel_error(halves_to_floats(hi.get()), rounded);
    double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::to_half(dx.ptr, static_cast<std::int64_t>(n), hi.ptr, eaq::DType::F16, st);
        },
        kCalls, reps);
    row(s, "to_half", "prefill 512", t, static_cast<double>(n) * (4 + 2), copy, err);
    kc::to_half_split(dx.ptr, static_cast<std::int64_t>(n), hi.ptr, lo.ptr, eaq::DType::F16, nullptr);
    const std::vector<float> h = halves_to_floats(hi.get()), l = halves_to_floats(lo.get());
    std::vector<float> sum(n);
    for (std::size_t i = 0; i < n; ++i) sum[i] = h[i] + l[i];
    err = rel_error(sum, x);
    t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i)
            kc::to_half_split(dx.ptr, static_cast<std::int64_t>(n), hi.ptr, lo.ptr, eaq::DType::F16, st);
        },
        kCalls, reps);
    row(s, "to_half_split", "prefill 512", t, static_cast<double>(n) * (4 + 2 + 2), copy, err);
  }
  // add_bias, prefill: y[t][i] += bias[i] over the q|k|v width (qwen2's biases).
  {
    const std::size_t n = static_cast<std::size_t>(kPrefill) * width;
    const auto y0 = random_floats(n, 32);
    const auto bias = random_floats(static_cast<std::size_t>(width), 33);
    std::vector<float> ref(n);
    for (std::size_t i = 0; i < n; ++i) ref[i] = y0[i] + bias[i % static_cast<std::size_t>(width)];
    Buffer<float> dy(y0), db(bias);
    kc::add_bias(dy.ptr, db.ptr, kPrefill, width, nullptr);
    const double err = rel_error(dy.get(), ref);
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::add_bias(dy.ptr, db.ptr, kPrefill, width, st);
        },
        kCalls, reps);
    row(s, "add_bias", "prefill 512", t, static_cast<double>(n) * (4 + 4), copy, err);
  }
  // scale_columns, prefill: a 512-token GEMM output of the gate|up rows times their int8 scales.
  {
    const std::int64_t cols = 2 * static_cast<std::int64_t>(I);
    const std::size_t n = static_cast<std::size_t>(kPrefill) * cols;
    const auto y0 = random_floats(n, 34);
    const auto scales = random_floats(static_cast<std::size_t>(cols), 35, 0.001f, 0.1f);
    std::vector<float> ref(n);
    for (std::size_t i = 0; i < n; ++i) ref[i] = y0[i] * scales[i % static_cast<std::size_t>(cols)];
    Buffer<float> dy(y0), ds(scales);
    kc::scale_columns(dy.ptr, cols, kPrefill, ds.ptr, cols, nullptr);
    const double err = rel_error(dy.get(), ref);
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::scale_columns(dy.ptr, cols, kPrefill, ds.ptr, cols, st);
        },
        kCalls, reps);
    row(s, "scale_columns", "prefill 512", t, static_cast<double>(n) * (4 + 4), copy, err);
  }
  // softcap, decode: the logits row (gemma's final softcap of 30).
  {
    const auto logits = random_floats(static_cast<std::size_t>(s.vocab), 36, -60.0f, 60.0f);
    std::vector<float> ref(logits.size());
    for (std::size_t i = 0; i < ref.size(); ++i) ref[i] = 30.0f * std::tanh(logits[i] / 30.0f);
    Buffer<float> dl(logits);
    kc::softcap(dl.ptr, s.vocab, 30.0f, nullptr);
    const double err = rel_error(dl.get(), ref);
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i) kc::softcap(dl.ptr, s.vocab, 30.0f, st);
        },
        kCalls, reps);
    row(s, "softcap", "decode", t, static_cast<double>(s.vocab) * 8, copy, err);
  }
  // argmax_next_token, decode: the maximum is planted; error = 1 if the token is not it.
  {
    auto logits = random_floats(static_cast<std::size_t>(s.vocab), 9, -10.0f, 10.0f);
    const std::int32_t planted = s.vocab - 7;
    logits[static_cast<std::size_t>(planted)] = 50.0f;
    Buffer<float> dl(logits);
    Buffer<std::int32_t> state(std::vector<std::int32_t>{0, 0, 0});  // token, position, step
    Buffer<std::int32_t> out(static_cast<std::size_t>(kCalls) * (reps + 3) + 2);
    kc::argmax_next_token(dl.ptr, s.vocab, state.ptr, out.ptr, state.ptr + 2, state.ptr + 1, nullptr);
    const double err = state.get()[0] == planted ? 0.0 : 1.0;
    check(cudaMemset(state.ptr, 0, 3 * sizeof(std::int32_t)), "reset");
    const double t = graph_seconds_per_call(
        [&](cudaStream_t st) {
          for (int i = 0; i < kCalls; ++i)
            kc::argmax_next_token(dl.ptr, s.vocab, state.ptr, out.ptr, state.ptr + 2, state.ptr + 1, st);
        },
        kCalls, reps);
    row(s, "argmax_next_token", "decode", t, static_cast<double>(s.vocab) * 4, copy, err);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void bench_sampling(const Shape& s, int reps) {
  using Clock = std::chrono::steady_clock;
  const auto vocab = static_cast<std::size_t>(s.vocab);
  const auto logits = random_floats(vocab, 21, -8.0f, 8.0f);
  std::vector<std::int32_t> penalized;
  for (int id = 5; id < s.vocab && penalized.size() < 64; id += s.vocab / 64) penalized.push_back(id);
  const std::size_t workspace_bytes = kc::sample_token_workspace_bytes(s.vocab);
  Buffer<float> dl(logits);
  Buffer<std::int32_t> dp(penalized), dtoken(1);
  Buffer<unsigned char> workspace(workspace_bytes);
  std::int32_t* pinned = nullptr;
  check(cudaMallocHost(reinterpret_cast<void**>(&pinned), sizeof(std::int32_t)), "cudaMallocHost");
  std::vector<float> host(vocab);
  std::vector<std::pair<float, std::int32_t>> scratch;
  struct Chain {
    const char* name;
    ek::TokenSampling sampling;
  };
  std::vector<Chain> chains(3);
  chains[0].name = "top-k 40, top-p 0.95, min-p 0.05, T 0.8, penalty 1.1";
  chains[0].sampling = {0.8f, 40, 0.95f, 0.05f, 1.1f};
  chains[1].name = "top-p 0.9, T 1";
  chains[1].sampling = {1.0f, 0, 0.9f, 0.0f, 1.0f};
  chains[2].name = "greedy, penalty 1.1";
  chains[2].sampling = {0.0f, 0, 1.0f, 0.0f, 1.1f};
  for (const Chain& c : chains) {
    std::mt19937_64 rng(5);
    std::vector<double> gpu_s, host_s;
    int differ = 0;
    for (int r = 0; r < reps + 3; ++r) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const auto t0 = Clock::now();
      kc::sample_token(dl.ptr, s.vocab, c.sampling, dp.ptr, static_cast<int>(penalized.size()), u, workspace.ptr,
                       workspace_bytes, dtoken.ptr, nullptr);
      check(cudaMemcpyAsync(pinned, dtoken.ptr, sizeof(std::int32_t), cudaMemcpyDeviceToHost, nullptr), "token copy");
      check(cudaStreamSynchronize(nullptr), "sample_token");
      const auto t1 = Clock::now();
      check(cudaMemcpy(host.data(), dl.ptr, vocab * sizeof(float), cudaMemcpyDeviceToHost), "logits copy");
      const std::int32_t cpu = ek::sample_token(host.data(), s.vocab, c.sampling, penalized.data(),
                                                static_cast<std::int64_t>(penalized.size()), u, scratch);
      const auto t2 = Clock::now();
      if (r < 3) continue;
      gpu_s.push_back(std::chrono::duration<double>(t1 - t0).count());
      host_s.push_back(std::chrono::duration<double>(t2 - t1).count());
      differ += cpu != *pinned;
    }
    const double g = median(gpu_s), h = median(host_s);
    std::printf("| %s | %d | %s | %.1f | %.1f | %.1fx | %d of %d |\n", s.name, s.vocab, c.name, g * 1e6, h * 1e6, h / g,
                differ, reps);
  }
  cudaFreeHost(pinned);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = parse_reps(argc, argv, 20);
  const double copy = eaq::workbench::describe_gpu().copy_bytes_per_s;
  std::printf("\n");
  std::printf("| shape | kernel | call | us/call | MB moved | GB/s | %% of copy | max rel err |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  eaq::ThreadPool pool(2);
  const ek::KernelContext ctx{&pool};
  const Shape shapes[] = {
      {"DeepSeek-Coder-1.3B", 2048, 5504, 16, 16, 128, 32256},
      {"R1-Distill-Qwen-1.5B", 1536, 8960, 12, 2, 128, 151936},
      {"Llama-2-7B", 4096, 11008, 32, 32, 128, 32000},
  };
  for (const Shape& s : shapes) bench_shape(s, ctx, reps, copy);
  std::printf("\nToken sampling, wall clock a step (median of %d):\n\n", reps);
  std::printf("| shape | vocab | chain | GPU: sample_token + token copy, us | host: logits copy + CPU op, us | "
              "host / GPU | differ |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Shape& s : shapes) bench_sampling(s, reps);
  return 0;
}
