// CPU kernel benchmarks: decode matvec (m = 1) GB/s for a 2048 × 8192 weight in f32 / f16 / bf16
// and the packed formats (i8_ch, i4s_g32, q8_0, q4_0, q4_1: their own kernels) against the STREAM
// triad bandwidth measured in the same process with the same thread count, prefill matmul (m = 64) GFLOP/s, and one decode step
// of attention over 1K / 4K cached positions, and token sampling (sample_token) on SmolLM2's and
// Qwen2's vocabularies beside sorting every candidate, which a sort-first sampler pays (the peer,
// measured in the same run).
// Weights rotate through copies totalling ≥ 512 MiB so every pass streams from DRAM, not cache.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/dtype.h"
#include "core/half.h"
#include "core/quantize_legacy_blocks.h"
#include "core/thread_pool.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "kernels/ops.h"
#include "quant/scheme_registry.h"

namespace {

using eaq::DType;
namespace kernels = eaq::kernels;

// The weight's shape: output × input features (EAQ_BENCH_SHAPE=ROWSxCOLS overrides it; with a
// small shape and EAQ_BENCH_MIB=1 the weights stay in cache and the matvec figures are the
// kernels' compute ceilings rather than memory figures).
std::int64_t kRows = 2048;
std::int64_t kCols = 8192;
// Bytes of weight copies the matvec rotates through, and of each triad array: both far beyond
// the last-level cache (override with EAQ_BENCH_MIB for a machine with a larger one).
std::size_t g_working_set_bytes = std::size_t{512} << 20;

std::map<int, double> g_triad_bytes_per_s;  // by thread count

struct Figure {
  std::string name;
  int threads;
  double value;
  std::string unit;
  double triad_ratio;  // 0 when not a bandwidth figure
};
std::vector<Figure> g_figures;

// Copies of a kRows × kCols weight in `dtype`, enough of them to exceed the caches.
struct WeightCopies {
  std::vector<std::vector<std::uint8_t>> storage;
  std::vector<kernels::WeightRef> refs;
  std::size_t bytes_each = 0;
};

WeightCopies make_weights(DType dtype, std::size_t min_total_bytes) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> row(kCols);
  WeightCopies w;
  w.bytes_each = eaq::row_bytes(dtype, kCols) * kRows;
  const std::size_t copies = std::max<std::size_t>(1, (min_total_bytes + w.bytes_each - 1) / w.bytes_each);
  const std::size_t row_bytes = eaq::row_bytes(dtype, kCols);
  std::vector<std::uint8_t> first(w.bytes_each);
  for (std::int64_t r = 0; r < kRows; ++r) {
    for (auto& v : row) v = dist(rng);
    std::uint8_t* dst = first.data() + r * row_bytes;
    for (std::int64_t i = 0; i < kCols; ++i) {
      switch (dtype) {
        case DType::F32: std::memcpy(dst + 4 * i, &row[i], 4); break;
        case DType::F16: { const std::uint16_t h = eaq::f32_to_f16(row[i]); std::memcpy(dst + 2 * i, &h, 2); break; }
        case DType::BF16: { const std::uint16_t h = eaq::f32_to_bf16(row[i]); std::memcpy(dst + 2 * i, &h, 2); break; }
        default: break;
      }
    }
    if (eaq::traits(dtype).is_quantized) eaq::quant::quantize_row(dtype, row.data(), dst, kCols);
  }
  // Further copies are byte copies: distinct memory is what matters, not distinct values.
  for (std::size_t c = 0; c < copies; ++c) w.storage.push_back(first);
  for (const auto& bytes : w.storage) w.refs.push_back(kernels::make_weight_ref(dtype, kRows, kCols, bytes.data()));
  return w;
}

void BM_Matvec(benchmark::State& state, DType dtype) {
  const int threads = static_cast<int>(state.range(0));
  eaq::ThreadPool pool(threads);
  kernels::KernelContext ctx{&pool};
  const WeightCopies w = make_weights(dtype, g_working_set_bytes);
  std::vector<float> x(kCols, 0.5f), y(kRows);
  std::size_t next = 0, bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    kernels::matmul(ctx, x.data(), 1, w.refs[next], nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
    next = (next + 1) % w.refs.size();
    bytes += w.bytes_each;
  }
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bytes_per_s = static_cast<double>(bytes) / elapsed_s;
  const double ratio = bytes_per_s / g_triad_bytes_per_s.at(threads);
  state.counters["GB/s"] = bytes_per_s / 1e9;
  state.counters["triad_ratio"] = ratio;
  g_figures.push_back({fmt::format("matvec {} {}x{}", eaq::dtype_name(dtype), kRows, kCols), threads,
                       bytes_per_s / 1e9, "GB/s", ratio});
}

void BM_PrefillMatmul(benchmark::State& state, DType dtype) {
  const int threads = static_cast<int>(state.range(0));
  constexpr std::int64_t m = 64;
  eaq::ThreadPool pool(threads);
  kernels::KernelContext ctx{&pool};
  const WeightCopies w = make_weights(dtype, 0);
  std::vector<float> x(m * kCols, 0.25f), y(m * kRows);
  std::size_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    kernels::matmul(ctx, x.data(), m, w.refs[0], nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
    ++calls;
  }
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double gflop_per_s = 2.0 * m * kRows * kCols * static_cast<double>(calls) / elapsed_s / 1e9;
  state.counters["GFLOP/s"] = gflop_per_s;
  g_figures.push_back({fmt::format("prefill matmul m={} {} {}x{}", m, eaq::dtype_name(dtype), kRows, kCols),
                       threads, gflop_per_s, "GFLOP/s", 0.0});
}

// One decode step of attention (SmolLM2-135M's shape: 9 query heads sharing 3 kv heads of 64)
// over a cache of `context` positions: microseconds per call, and the K+V bytes it must read.
void BM_AttentionDecode(benchmark::State& state, DType cache_dtype) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t context = state.range(1);
  constexpr std::int64_t n_heads = 9, n_kv_heads = 3, head_dim = 64;
  eaq::ThreadPool pool(threads);
  kernels::KernelContext ctx{&pool};
  const std::size_t elem = cache_dtype == DType::F16 ? 2 : 4;
  const std::size_t plane_bytes = context * n_kv_heads * head_dim * elem;
  std::vector<std::uint8_t> k(plane_bytes), v(plane_bytes);
  kernels::KvRef cache{cache_dtype, k.data(), v.data(), n_kv_heads, head_dim, context};
  std::vector<float> row(n_kv_heads * head_dim, 0.01f);
  for (std::int64_t p = 0; p < context; ++p) kernels::kv_store(ctx, cache, p, 1, row.data(), row.data());
  std::vector<float> q(n_heads * head_dim, 0.1f), out(n_heads * head_dim);
  const std::int32_t position = static_cast<std::int32_t>(context - 1);
  kernels::AttentionParams params{n_heads, n_kv_heads, head_dim, 0.125f, 0, 0.0f};
  std::size_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    kernels::attention(ctx, params, q.data(), 1, &position, cache, out.data());
    benchmark::DoNotOptimize(out.data());
    ++calls;
  }
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double us_per_call = elapsed_s / static_cast<double>(calls) * 1e6;
  state.counters["us/call"] = us_per_call;
  g_figures.push_back({fmt::format("attention decode {} ctx={}", eaq::dtype_name(cache_dtype), context),
                       threads, us_per_call, "us/call", 0.0});
}

// Logits like a language model's: normal around 0 with sd 2.5, a few tokens far above.
std::vector<float> model_like_logits(std::int64_t vocab) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 2.5f);
  std::vector<float> logits(static_cast<std::size_t>(vocab));
  for (auto& l : logits) l = dist(rng);
  for (int i = 0; i < 8; ++i) logits[rng() % logits.size()] = 14.0f + static_cast<float>(i);
  return logits;
}

// One token picked by the sampling chain: microseconds per call (one thread).
void BM_SampleToken(benchmark::State& state, kernels::TokenSampling sampling, const char* chain) {
  const std::int64_t vocab = state.range(0);
  const std::vector<float> logits = model_like_logits(vocab);
  const std::vector<std::int32_t> penalized = {1, 5, 99, 1000, 4321};
  std::vector<std::pair<float, std::int32_t>> scratch;
  std::mt19937_64 rng(9);
  std::size_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    benchmark::DoNotOptimize(kernels::sample_token(logits.data(), vocab, sampling, penalized.data(),
                                                   static_cast<std::int64_t>(penalized.size()), u, scratch));
    ++calls;
  }
  const double us = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls * 1e6;
  state.counters["us/call"] = us;
  g_figures.push_back({fmt::format("sample_token {} vocab={}", chain, vocab), 1, us, "us/call", 0.0});
}

// The peer: (logit, id) pairs of the whole vocabulary built and sorted, once a call.
void BM_SortAllCandidates(benchmark::State& state) {
  const std::int64_t vocab = state.range(0);
  const std::vector<float> logits = model_like_logits(vocab);
  std::vector<std::pair<float, std::int32_t>> candidates(static_cast<std::size_t>(vocab));
  std::size_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (std::int64_t i = 0; i < vocab; ++i) candidates[i] = {logits[i], static_cast<std::int32_t>(i)};
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    benchmark::DoNotOptimize(candidates.data());
    ++calls;
  }
  const double us = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls * 1e6;
  state.counters["us/call"] = us;
  g_figures.push_back({fmt::format("sort every candidate vocab={}", vocab), 1, us, "us/call", 0.0});
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (const char* mib = std::getenv("EAQ_BENCH_MIB")) g_working_set_bytes = std::stoull(mib) << 20;
  if (const char* shape = std::getenv("EAQ_BENCH_SHAPE")) {
    if (std::sscanf(shape, "%ldx%ld", &kRows, &kCols) != 2 || kRows < 1 || kCols < 1 || kCols % 32 != 0) {
      fmt::print(stderr, "EAQ_BENCH_SHAPE='{}': give ROWSxCOLS with COLS a multiple of 32, e.g. 2048x8192\n", shape);
      return 2;
    }
  }
  fmt::print("SIMD target: {}\n", kernels::cpu_simd_target());
  for (int threads : {1, 2}) {
    eaq::ThreadPool pool(threads);
    g_triad_bytes_per_s[threads] = kernels::measure_triad_bandwidth_bytes_per_s(pool, g_working_set_bytes);
    fmt::print("STREAM triad, {} thread(s), 3 x {} MiB arrays: {:.2f} GB/s\n", threads,
               g_working_set_bytes >> 20, g_triad_bytes_per_s[threads] / 1e9);
  }
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I8_CH, DType::Q8_0, DType::I4S_G32, DType::Q4_0,
                      DType::Q4_1}) {
    const std::string name = fmt::format("matvec/{}", eaq::dtype_name(dtype));
    benchmark::RegisterBenchmark(name.c_str(), BM_Matvec, dtype)->Arg(1)->Arg(2)->UseRealTime()->MinTime(1.0);
  }
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    const std::string name = fmt::format("prefill_matmul_m64/{}", eaq::dtype_name(dtype));
    benchmark::RegisterBenchmark(name.c_str(), BM_PrefillMatmul, dtype)->Arg(1)->Arg(2)->UseRealTime()->MinTime(1.0);
  }
  for (DType dtype : {DType::F32, DType::F16}) {
    const std::string name = fmt::format("attention_decode/{}", eaq::dtype_name(dtype));
    benchmark::RegisterBenchmark(name.c_str(), BM_AttentionDecode, dtype)
        ->Args({1, 1024})->Args({2, 1024})->Args({2, 4096})->UseRealTime()->MinTime(0.5);
  }
  const kernels::TokenSampling llama_defaults{0.8f, 40, 0.95f, 0.05f, 1.1f};
  const kernels::TokenSampling top_p_only{0.8f, 0, 0.95f, 0.0f, 1.0f};
  const kernels::TokenSampling temperature_only{1.0f, 0, 1.0f, 0.0f, 1.0f};
  for (auto [chain, sampling] : {std::pair{"llama.cpp-defaults", llama_defaults}, std::pair{"top-p-0.95", top_p_only},
                                 std::pair{"temperature-only", temperature_only}}) {
    const std::string name = fmt::format("sample_token/{}", chain);
    benchmark::RegisterBenchmark(name.c_str(), BM_SampleToken, sampling, chain)->Arg(49152)->Arg(151936)->UseRealTime();
  }
  benchmark::RegisterBenchmark("sort_every_candidate", BM_SortAllCandidates)->Arg(49152)->Arg(151936)->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  // Google Benchmark may run a function several times (warm-up, repetitions): keep the last.
  fmt::print("\n{:<36} {:>7} {:>12} {:>14}\n", "kernel", "threads", "figure", "vs triad");
  std::map<std::pair<std::string, int>, Figure> last;
  for (const Figure& f : g_figures) last[{f.name, f.threads}] = f;
  for (const auto& [key, f] : last) {
    const std::string ratio = f.triad_ratio > 0 ? fmt::format("{:.0f}% of {:.2f}", 100 * f.triad_ratio,
                                                              g_triad_bytes_per_s.at(f.threads) / 1e9)
                                                : "";
    fmt::print("{:<36} {:>7} {:>8.2f} {:<7} {}\n", f.name, f.threads, f.value, f.unit, ratio);
  }
  return 0;
}
