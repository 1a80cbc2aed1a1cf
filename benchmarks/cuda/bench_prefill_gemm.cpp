// The prefill's projection GEMMs (batch 1, a T-token prompt) by every cuBLASLt algorithm its
// heuristic offers, beside cublasGemmEx's default (what kernels/cuda/cublas_gemm_cuda.cpp calls), in
// the same run. For each shape: the default's time, the heuristic's first choice, the fastest
// candidate and its configuration (tile, stages, split-K, cluster), with f32 output (the engine's)
// and with f16 output. Then, per model, the sum over its layers' projections by each choice, as a
// share of the 8192^3 f16 GEMM rate measured by the default in this run (bench_engine_cuda's peak).
//
//   bench_prefill_gemm [--tokens 512] [--candidates 32] [--reps 20] [--all-algos]
//
// --all-algos: also every configuration cuBLASLt can build for the shape, not only the heuristic's:
// each algorithm id (cublasLtMatmulAlgoGetIds), each of its tiles, stages, CTA swizzles, custom
// options and the cluster shapes 1x1..2x2 (and auto), K not split, those cublasLtMatmulAlgoCheck
// accepts timed; printed: how many ran, the fastest, and whether its output equals the default's
// bit for bit (the engine's tuning keeps that property).
//
// Weights rotate over copies past the L2 (as a prefill reads each layer's once); operands are small
// finite f16 values. Every candidate's output is checked against the default's (max |Δ| relative to
// max |y|) so a fast but wrong algorithm is not picked.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/half_gemm.h"
#include "model_shapes.h"

namespace {

using eaq::DType;
namespace kc = eaq::kernels::cuda;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_prefill_gemm: %s\n", what.c_str());
  std::exit(2);
}

// The value of flag `flag` as a whole number from 1 to 10^6, or a clear error.
long long whole_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 1000000) {
    fail(flag + " '" + text + "' is not a whole number from 1 to 1000000");
  }
  return v;
}

struct Buffers {
  std::vector<void*> w;  // copies of the weight, rotated past the L2
  void* x = nullptr;
  void* y = nullptr;     // f32 [T][n] (f16 output uses the first half)
  float* ref = nullptr;  // the default's f32 output
};

double time_ms(const std::function<void(int)>& call, int reps) {
  cudaEvent_t e0, e1;
  EAQ_CUDA_CHECK(cudaEventCreate(&e0));
  EAQ_CUDA_CHECK(cudaEventCreate(&e1));
  for (int i = 0; i < 3; ++i) call(i);
  EAQ_CUDA_CHECK(cudaEventRecord(e0));
  for (int i = 0; i < reps; ++i) call(i);
  EAQ_CUDA_CHECK(cudaEventRecord(e1));
  EAQ_CUDA_CHECK(cudaEventSynchronize(e1));
  float ms = 0.0f;
  EAQ_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return static_cast<double>(ms) / reps;
}

// Max |y - ref| / max |ref| of a [count] output in f32 or f16.
double relative_error(const void* y, bool half_out, const float* ref, std::size_t count) {
  std::vector<float> r(count), v(count);
  EAQ_CUDA_CHECK(cudaMemcpy(r.data(), ref, count * 4, cudaMemcpyDeviceToHost));
  if (half_out) {
    std::vector<__half> h(count);
    EAQ_CUDA_CHECK(cudaMemcpy(h.data(), y, count * 2, cudaMemcpyDeviceToHost));
    for (std::size_t i = 0; i < count; ++i) v[i] = __half2float(h[i]);
  } else {
    EAQ_CUDA_CHECK(cudaMemcpy(v.data(), y, count * 4, cudaMemcpyDeviceToHost));
  }
  double max_ref = 0.0, max_d = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(r[i])));
    max_d = std::max(max_d, std::fabs(static_cast<double>(v[i]) - r[i]));
  }
  return max_ref > 0.0 ? max_d / max_ref : max_d;
}

// Whether y is the default's f32 output (ref) bit for bit, or with f16 output, that output rounded
// to f16 bit for bit (one f32 accumulation rounded once, as the engine's f16-output GEMMs).
bool equals_default_bits(const void* y, bool half_out, const float* ref, std::size_t count) {
  std::vector<float> r(count);
  EAQ_CUDA_CHECK(cudaMemcpy(r.data(), ref, count * 4, cudaMemcpyDeviceToHost));
  if (half_out) {
    std::vector<__half> h(count);
    EAQ_CUDA_CHECK(cudaMemcpy(h.data(), y, count * 2, cudaMemcpyDeviceToHost));
    for (std::size_t i = 0; i < count; ++i) {
      const __half rounded = __float2half_rn(r[i]);
      if (std::memcmp(&rounded, &h[i], 2) != 0) return false;
    }
    return true;
  }
  std::vector<float> v(count);
  EAQ_CUDA_CHECK(cudaMemcpy(v.data(), y, count * 4, cudaMemcpyDeviceToHost));
  return std::memcmp(v.data(), r.data(), count * 4) == 0;
}

struct Choice {
  double ms = 0.0;
  double rel_err = 0.0;
  std::string config;
};

// The matmul y (n x T, f32 or f16) = W^T x as the engine's HalfGemm describes it (half_gemm.h):
// W n rows of k, x T rows of k, both f16, dense.
eaq::kernels::cuda::LtMatmulShape lt_problem(std::int64_t T, std::int64_t n, std::int64_t k, bool half_out) {
  return {eaq::DType::F16, n, k, k, T, n, half_out ? eaq::DType::F16 : eaq::DType::F32};
}

struct LtResult {
  Choice first, best;
  int candidates = 0, rejected = 0;
};

LtResult sweep_lt(cublasLtHandle_t lt, void* workspace, std::size_t workspace_bytes, Buffers& b, std::int64_t T,
                  std::int64_t n, std::int64_t k, bool half_out, int max_candidates, int reps) {
  const auto problem = lt_problem(T, n, k, half_out);
  const cublasLtMatmulDesc_t op = problem.op;
  const cublasLtMatrixLayout_t la = problem.a, lb = problem.b, lc = problem.c;
  cublasLtMatmulPreference_t pref;
  EAQ_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  EAQ_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                                                        sizeof(workspace_bytes)));
  std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<std::size_t>(max_candidates));
  int found = 0;
  EAQ_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, max_candidates, results.data(), &found));
  const float alpha = 1.0f, beta = 0.0f;
  LtResult out;
  out.best.ms = 1e30;
  for (int i = 0; i < found; ++i) {
    if (results[static_cast<std::size_t>(i)].state != CUBLAS_STATUS_SUCCESS) continue;
    const cublasLtMatmulAlgo_t& algo = results[static_cast<std::size_t>(i)].algo;
    auto call = [&](int rep) {
      const void* w = b.w[static_cast<std::size_t>(rep) % b.w.size()];
      EAQ_CUBLAS_CHECK(cublasLtMatmul(lt, op, &alpha, w, la, b.x, lb, &beta, b.y, lc, b.y, lc, &algo, workspace,
                                      workspace_bytes, nullptr));
    };
    EAQ_CUDA_CHECK(cudaMemset(b.y, 0, static_cast<std::size_t>(T * n) * 4));
    call(0);
    EAQ_CUDA_CHECK(cudaDeviceSynchronize());
    Choice c;
    c.rel_err = relative_error(b.y, half_out, b.ref, static_cast<std::size_t>(T * n));
    ++out.candidates;
    // f32 accumulation either way; f16 output rounds to 2^-11 relative.
    if (c.rel_err > (half_out ? 2e-3 : 1e-4)) {
      ++out.rejected;
      continue;
    }
    c.ms = time_ms(call, reps);
    char buf[160];
    std::snprintf(buf, sizeof(buf), "#%d tile %d stages %d splitK %d cluster %d ws %zu KiB", i,
                  kc::lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_TILE_ID), kc::lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID),
                  kc::lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM),
                  kc::lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID),
                  results[static_cast<std::size_t>(i)].workspaceSize >> 10);
    c.config = buf;
    if (out.candidates - out.rejected == 1) out.first = c;
    if (c.ms < out.best.ms) out.best = c;
  }
  cublasLtMatmulPreferenceDestroy(pref);
  if (out.candidates == out.rejected) fail("no cuBLASLt candidate for n=" + std::to_string(n) + " k=" + std::to_string(k));
  return out;
}


// The values of a capability that is an array of ints (tile or stages ids); {fallback} if none.
std::vector<int> cap_ids(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoCapAttributes_t cap, int fallback) {
  std::size_t bytes = 0;
  if (cublasLtMatmulAlgoCapGetAttribute(&algo, cap, nullptr, 0, &bytes) != CUBLAS_STATUS_SUCCESS || bytes == 0) {
    return {fallback};
  }
  std::vector<int> ids(bytes / sizeof(int));
  if (cublasLtMatmulAlgoCapGetAttribute(&algo, cap, ids.data(), bytes, &bytes) != CUBLAS_STATUS_SUCCESS) return {fallback};
  return ids.empty() ? std::vector<int>{fallback} : ids;
}

int cap_int(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoCapAttributes_t cap) {
  std::int32_t v = 0;
  std::size_t written = 0;
  if (cublasLtMatmulAlgoCapGetAttribute(&algo, cap, &v, sizeof(v), &written) != CUBLAS_STATUS_SUCCESS) return 0;
  return v;
}

struct SweepAll {
  int configs = 0, accepted = 0, timed = 0;
  Choice best;          // the fastest whose output is the default's bit for bit
  Choice best_any;      // the fastest within the error bound, bits aside
};

// Every configuration cuBLASLt builds for y (n x T, f32 or f16) = W^T x, K not split.
SweepAll sweep_all_algos(cublasLtHandle_t lt, void* workspace, std::size_t workspace_bytes, Buffers& b, std::int64_t T,
                         std::int64_t n, std::int64_t k, bool half_out, int reps) {
  const auto problem = lt_problem(T, n, k, half_out);
  const cublasLtMatmulDesc_t op = problem.op;
  const cublasLtMatrixLayout_t la = problem.a, lb = problem.b, lc = problem.c;
  const cudaDataType_t out_type = half_out ? CUDA_R_16F : CUDA_R_32F;
  std::vector<int> ids(256);
  int n_ids = 0;
  EAQ_CUBLAS_CHECK(cublasLtMatmulAlgoGetIds(lt, CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16F, CUDA_R_16F, out_type,
                                            out_type, static_cast<int>(ids.size()), ids.data(), &n_ids));
  const float alpha = 1.0f, beta = 0.0f;
  SweepAll out;
  out.best.ms = out.best_any.ms = 1e30;
  const std::vector<int> clusters = {CUBLASLT_CLUSTER_SHAPE_AUTO, CUBLASLT_CLUSTER_SHAPE_1x1x1, CUBLASLT_CLUSTER_SHAPE_2x1x1,
                                     CUBLASLT_CLUSTER_SHAPE_1x2x1, CUBLASLT_CLUSTER_SHAPE_2x2x1};
  constexpr int kMaxTimed = 3000;
  // Error of the output in b.y against the default's: exact (0) or relative.
  auto error_now = [&] { return relative_error(b.y, half_out, b.ref, static_cast<std::size_t>(T * n)); };
  for (int a = 0; a < n_ids && out.timed < kMaxTimed; ++a) {
    cublasLtMatmulAlgo_t algo;
    if (cublasLtMatmulAlgoInit(lt, CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16F, CUDA_R_16F, out_type, out_type, ids[a],
                               &algo) != CUBLAS_STATUS_SUCCESS) {
      continue;
    }
    const std::vector<int> tiles = cap_ids(algo, CUBLASLT_ALGO_CAP_TILE_IDS, 0);
    const std::vector<int> stages = cap_ids(algo, CUBLASLT_ALGO_CAP_STAGES_IDS, 0);
    const int swizzles = cap_int(algo, CUBLASLT_ALGO_CAP_CTA_SWIZZLING_SUPPORT) ? 2 : 1;
    const int customs = std::min(cap_int(algo, CUBLASLT_ALGO_CAP_CUSTOM_OPTION_MAX), 7) + 1;
    for (int tile : tiles) for (int stage : stages) for (int sw = 0; sw < swizzles; ++sw)
    for (int custom = 0; custom < customs; ++custom) for (int cluster : clusters) {
      if (out.timed >= kMaxTimed) break;
      const std::int32_t split = 1;
      cublasLtMatmulAlgo_t c = algo;
      cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof(tile));
      cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stage, sizeof(stage));
      cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &split, sizeof(split));
      cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &sw, sizeof(sw));
      cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION, &custom, sizeof(custom));
      if (cublasLtMatmulAlgoConfigSetAttribute(&c, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, &cluster, sizeof(cluster)) !=
              CUBLAS_STATUS_SUCCESS &&
          cluster != CUBLASLT_CLUSTER_SHAPE_AUTO) {
        continue;
      }
      ++out.configs;
      cublasLtMatmulHeuristicResult_t check{};
      if (cublasLtMatmulAlgoCheck(lt, op, la, lb, lc, lc, &c, &check) != CUBLAS_STATUS_SUCCESS ||
          check.workspaceSize > workspace_bytes) {
        continue;
      }
      ++out.accepted;
      auto call = [&](int rep) {
        const void* w = b.w[static_cast<std::size_t>(rep) % b.w.size()];
        return cublasLtMatmul(lt, op, &alpha, w, la, b.x, lb, &beta, b.y, lc, b.y, lc, &c, workspace, workspace_bytes,
                              nullptr);
      };
      if (call(0) != CUBLAS_STATUS_SUCCESS || cudaDeviceSynchronize() != cudaSuccess) {
        (void)cudaGetLastError();
        continue;
      }
      ++out.timed;
      const double ms = time_ms([&](int rep) { (void)call(rep); }, reps);
      if (ms >= out.best.ms && ms >= out.best_any.ms) continue;
      (void)call(0);
      EAQ_CUDA_CHECK(cudaDeviceSynchronize());
      const double err = error_now();
      char buf[200];
      std::snprintf(buf, sizeof(buf), "id %d tile %d stages %d swizzle %d custom %d cluster %d", ids[a], tile, stage, sw,
                    custom, cluster);
      if (err <= (half_out ? 2e-3 : 1e-4) && ms < out.best_any.ms) out.best_any = Choice{ms, err, buf};
      if (ms < out.best.ms && equals_default_bits(b.y, half_out, b.ref, static_cast<std::size_t>(T * n))) {
        out.best = Choice{ms, err, buf};
      }
    }
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) try {
  std::int64_t T = 512;
  int candidates = 32, reps = 20;
  bool all_algos = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--all-algos") {
      all_algos = true;
      continue;
    }
    if (i + 1 >= argc) fail(a + " needs a value (see the header of benchmarks/cuda/bench_prefill_gemm.cpp)");
    if (a == "--tokens") T = whole_number(a, argv[++i]);
    else if (a == "--candidates") candidates = static_cast<int>(whole_number(a, argv[++i]));
    else if (a == "--reps") reps = static_cast<int>(whole_number(a, argv[++i]));
    else fail("unknown argument " + a + " (see the header of benchmarks/cuda/bench_prefill_gemm.cpp)");
  }
  if (T < 16 || candidates < 1 || reps < 1) fail("--tokens >= 16, --candidates >= 1, --reps >= 1");
  cudaDeviceProp prop{};
  EAQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("GPU: %s (%d SMs, L2 %d MiB)\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);

  cublasHandle_t handle;
  EAQ_CUBLAS_CHECK(cublasCreate(&handle));
  cublasLtHandle_t lt;
  EAQ_CUBLAS_CHECK(cublasLtCreate(&lt));
  const std::size_t workspace_bytes = kc::cublas_workspace_bytes_requested();
  void* workspace = nullptr;
  if (workspace_bytes > 0) {
    EAQ_CUDA_CHECK(cudaMalloc(&workspace, workspace_bytes));
    EAQ_CUBLAS_CHECK(cublasSetWorkspace(handle, workspace, workspace_bytes));
  }
  std::printf("workspace %zu MiB (EAQ_CUDA_CUBLAS_WORKSPACE_MIB), %lld tokens, %d candidates asked, %d reps\n",
              workspace_bytes >> 20, static_cast<long long>(T), candidates, reps);

  // The peak bench_engine_cuda reads the prefill against: the default on 8192^3.
  double peak_tflops = 0.0;
  {
    const std::int64_t s = 8192;
    Buffers b;
    b.w.resize(1);
    EAQ_CUDA_CHECK(cudaMalloc(&b.w[0], static_cast<std::size_t>(s * s) * 2));
    EAQ_CUDA_CHECK(cudaMalloc(&b.x, static_cast<std::size_t>(s * s) * 2));
    EAQ_CUDA_CHECK(cudaMalloc(&b.y, static_cast<std::size_t>(s * s) * 4));
    EAQ_CUDA_CHECK(cudaMemset(b.w[0], 0x11, static_cast<std::size_t>(s * s) * 2));
    EAQ_CUDA_CHECK(cudaMemset(b.x, 0x11, static_cast<std::size_t>(s * s) * 2));
    const double ms = time_ms(
        [&](int) { kc::gemm_half(handle, DType::F16, b.w[0], s, s, s, b.x, s, static_cast<float*>(b.y), s); }, reps);
    peak_tflops = 2.0 * s * s * s / (ms * 1e-3) / 1e12;
    std::printf("peak: cublasGemmEx default f16 8192^3 %.3f ms, %.0f TFLOP/s\n\n", ms, peak_tflops);
    cudaFree(b.w[0]);
    cudaFree(b.x);
    cudaFree(b.y);
  }

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const eaq::bench::Shape& m : eaq::bench::shapes()) {
    std::printf("## %s (%lld layers, %lld tokens)\n", m.name.c_str(), static_cast<long long>(m.layers),
                static_cast<long long>(T));
    std::printf("%-8s %6s %6s | %9s | %9s %9s %9s | %9s %9s %9s | best f32 config\n", "gemm", "n", "k", "default",
                "lt first", "lt best", "speed-up", "f16 first", "f16 best", "speed-up");
    double sum_default = 0.0, sum_first = 0.0, sum_best = 0.0, sum_best_half = 0.0, flops = 0.0;
    for (const eaq::bench::ProjectionGemm& g : eaq::bench::projection_gemms(m)) {
      Buffers b;
      const std::size_t w_bytes = static_cast<std::size_t>(g.n * g.k) * 2;
      const std::size_t copies = std::clamp<std::size_t>((128u << 20) / w_bytes + 1, 1, 16);
      std::vector<__half> host(static_cast<std::size_t>(std::max(g.n, T) * g.k));
      for (auto& v : host) v = __float2half(dist(rng) * 0.05f);
      for (std::size_t c = 0; c < copies; ++c) {
        void* p = nullptr;
        EAQ_CUDA_CHECK(cudaMalloc(&p, w_bytes));
        EAQ_CUDA_CHECK(cudaMemcpy(p, host.data(), w_bytes, cudaMemcpyHostToDevice));
        b.w.push_back(p);
      }
      for (auto& v : host) v = __float2half(dist(rng));
      EAQ_CUDA_CHECK(cudaMalloc(&b.x, static_cast<std::size_t>(T * g.k) * 2));
      EAQ_CUDA_CHECK(cudaMemcpy(b.x, host.data(), static_cast<std::size_t>(T * g.k) * 2, cudaMemcpyHostToDevice));
      EAQ_CUDA_CHECK(cudaMalloc(&b.y, static_cast<std::size_t>(T * g.n) * 4));
      EAQ_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&b.ref), static_cast<std::size_t>(T * g.n) * 4));
      auto call_default = [&](int rep) {
        kc::gemm_half(handle, DType::F16, b.w[static_cast<std::size_t>(rep) % copies], g.n, g.k, g.k, b.x, T, b.ref, g.n);
      };
      call_default(0);
      EAQ_CUDA_CHECK(cudaDeviceSynchronize());
      const double ms_default = time_ms(call_default, reps);
      const LtResult f32 = sweep_lt(lt, workspace, workspace_bytes, b, T, g.n, g.k, false, candidates, reps);
      const LtResult f16 = sweep_lt(lt, workspace, workspace_bytes, b, T, g.n, g.k, true, candidates, reps);
      std::printf("%-8s %6lld %6lld | %6.1f us | %6.1f us %6.1f us %8.2fx | %6.1f us %6.1f us %8.2fx | %s (%d/%d candidates ran)\n",
                  g.what, static_cast<long long>(g.n), static_cast<long long>(g.k), ms_default * 1e3, f32.first.ms * 1e3,
                  f32.best.ms * 1e3, ms_default / f32.best.ms, f16.first.ms * 1e3, f16.best.ms * 1e3,
                  ms_default / f16.best.ms, f32.best.config.c_str(), f32.candidates - f32.rejected, f32.candidates);
      std::printf("%-8s f16 best: %s; max rel err f32 best %.1e, f16 best %.1e\n", "", f16.best.config.c_str(),
                  f32.best.rel_err, f16.best.rel_err);
      if (all_algos) {
        for (bool half_out : {false, true}) {
          const SweepAll all = sweep_all_algos(lt, workspace, workspace_bytes, b, T, g.n, g.k, half_out, 10);
          const double heuristic_ms = (half_out ? f16 : f32).best.ms;
          std::printf("%-8s all algos, %s out: %d configs, %d accepted, %d timed; fastest bit-equal %.1f us (%.2fx the "
                      "heuristic's best) %s; fastest any %.1f us (rel err %.1e) %s\n",
                      "", half_out ? "f16" : "f32", all.configs, all.accepted, all.timed, all.best.ms * 1e3,
                      heuristic_ms / all.best.ms, all.best.config.c_str(), all.best_any.ms * 1e3, all.best_any.rel_err,
                      all.best_any.config.c_str());
          std::fflush(stdout);
        }
      }
      sum_default += ms_default;
      sum_first += f32.first.ms;
      sum_best += f32.best.ms;
      sum_best_half += f16.best.ms;
      flops += 2.0 * static_cast<double>(T) * g.n * g.k;
      for (void* p : b.w) cudaFree(p);
      cudaFree(b.x);
      cudaFree(b.y);
      cudaFree(b.ref);
    }
    auto pct = [&](double ms_layer) { return 100.0 * flops / (ms_layer * 1e-3) / 1e12 / peak_tflops; };
    std::printf("%s projections, a layer: default %.1f us (%.1f%% of the peak), lt first %.1f us (%.1f%%), "
                "lt best %.1f us (%.1f%%), f16-out best %.1f us (%.1f%%); x %d layers: %.3f / %.3f / %.3f / %.3f ms\n\n",
                m.name.c_str(), sum_default * 1e3, pct(sum_default), sum_first * 1e3, pct(sum_first),
                sum_best * 1e3, pct(sum_best), sum_best_half * 1e3, pct(sum_best_half), static_cast<int>(m.layers),
                sum_default * m.layers,
                sum_first * m.layers, sum_best * m.layers, sum_best_half * m.layers);
  }
  cublasLtDestroy(lt);
  cublasDestroy(handle);
  cudaFree(workspace);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_prefill_gemm: %s\n", e.what());
  return 1;
}
