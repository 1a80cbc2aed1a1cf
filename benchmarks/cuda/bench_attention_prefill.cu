// Workbench of the prefill attention kernels (attention_prefill_tc.h), in the style of llm.c's
// dev/cuda: it links the production kernels, checks each against a CPU reference (double
// accumulation, a sample of heads) and times a 512-token prompt (and 2048) from position 0 on the
// Llama-2-7B, DeepSeek-Coder-1.3B and R1-Distill-Qwen-1.5B head layouts. Throughput is the causal
// attention's FLOPs (2 * 2 * head_dim per visible query-key pair) over the median time.
//
//   bench_attention_prefill [--reps N]
//
// Kernels: f16 (attention_prefill_f16.cu, the default prefill's, one group of warps a block),
// f16g2 (two groups a block, each every other key tile: the default where the blocks fit one an
// SM), f16x2 (two K/V stages, cp.async), tc (attention_prefill_tc.cu, f32-accurate,
// EAQ_CUDA_PREFILL=split), warp (attention_prefill.cu's fallback).
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
#include <vector>

#include "kernels/cuda/attention_prefill_tc.h"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
using eaq::workbench::median;

namespace kc = eaq::kernels::cuda;

struct Layout {
  const char* model;
  int n_heads, n_kv_heads, head_dim;
};

struct Kernel {
  const char* name;
  std::function<void(const kc::AttentionCudaParams&, const float*, const std::int32_t*, int, float*, cudaStream_t)> run;
};

// max |gpu - reference| / max |reference| over heads {0, n_heads / 2, n_heads - 1}, every query.
double error_vs_cpu(const Layout& L, int T, const std::vector<float>& q, const std::vector<__half>& k,
                    const std::vector<__half>& v, const std::vector<float>& gpu) {
  const int hd = L.head_dim, group = L.n_heads / L.n_kv_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const std::size_t kv_stride = static_cast<std::size_t>(L.n_kv_heads) * hd;
  double max_ref = 0, max_err = 0;
  std::vector<double> s(static_cast<std::size_t>(T));
  for (int h : {0, L.n_heads / 2, L.n_heads - 1}) {
    const int kvh = h / group;
    for (int t = 0; t < T; ++t) {
      const float* qr = q.data() + (static_cast<std::size_t>(t) * L.n_heads + h) * hd;
      double m = -INFINITY;
      for (int j = 0; j <= t; ++j) {
        double dot = 0;
        for (int d = 0; d < hd; ++d) dot += static_cast<double>(qr[d]) * __half2float(k[j * kv_stride + kvh * hd + d]);
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      double l = 0;
      for (int j = 0; j <= t; ++j) l += (s[j] = std::exp(s[j] - m));
      for (int d = 0; d < hd; ++d) {
        double acc = 0;
        for (int j = 0; j <= t; ++j) acc += s[j] * __half2float(v[j * kv_stride + kvh * hd + d]);
        acc /= l;
        max_ref = std::max(max_ref, std::abs(acc));
        const float g = gpu[(static_cast<std::size_t>(t) * L.n_heads + h) * hd + d];
        max_err = std::max(max_err, std::isfinite(g) ? std::abs(acc - g) : INFINITY);
      }
    }
  }
  return max_err / max_ref;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = eaq::workbench::parse_reps(argc, argv, 20);
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("device: %s (%d SMs)\n", prop.name, prop.multiProcessorCount);
  const Kernel kernels[] = {
      {"f16",
       [](const kc::AttentionCudaParams& p, const float* q, const std::int32_t* pos, int T, float* out, cudaStream_t s) {
         if (!kc::attention_prefill_f16(p, q, pos, T, out, nullptr, eaq::DType::F16, s, 1, 1)) std::exit(3);
       }},
      {"f16g2",
       [](const kc::AttentionCudaParams& p, const float* q, const std::int32_t* pos, int T, float* out, cudaStream_t s) {
         if (!kc::attention_prefill_f16(p, q, pos, T, out, nullptr, eaq::DType::F16, s, 1, 2)) std::exit(3);
       }},
      {"f16x2",
       [](const kc::AttentionCudaParams& p, const float* q, const std::int32_t* pos, int T, float* out, cudaStream_t s) {
         if (!kc::attention_prefill_f16(p, q, pos, T, out, nullptr, eaq::DType::F16, s, 2, 1)) std::exit(3);
       }},
      {"tc",
       [](const kc::AttentionCudaParams& p, const float* q, const std::int32_t* pos, int T, float* out, cudaStream_t s) {
         if (!kc::attention_prefill_tc(p, q, pos, T, out, nullptr, eaq::DType::F16, s)) std::exit(3);
       }},
      {"warp",
       [](const kc::AttentionCudaParams& p, const float* q, const std::int32_t* pos, int T, float* out, cudaStream_t s) {
         kc::attention_prefill_warp(p, q, pos, T, out, nullptr, eaq::DType::F16, s);
       }},
  };
  const Layout layouts[] = {{"llama2-7b (32/32x128)", 32, 32, 128},
                            {"ds-coder-1.3b (16/16x128)", 16, 16, 128},
                            {"qwen-1.5b (12/2x128)", 12, 2, 128}};
  std::printf("%-26s %6s %6s %10s %9s %11s\n", "layout", "tokens", "kernel", "us/call", "TFLOP/s", "max rel err");
  for (const Layout& L : layouts) {
    for (int T : {512, 2048}) {
      const std::size_t kv_elems = static_cast<std::size_t>(T) * L.n_kv_heads * L.head_dim;
      const std::size_t q_elems = static_cast<std::size_t>(T) * L.n_heads * L.head_dim;
      std::mt19937 rng(5);
      std::normal_distribution<float> nd(0.0f, 1.0f);
      std::vector<float> q(q_elems);
      std::vector<__half> k(kv_elems), v(kv_elems);
      for (auto& x : q) x = nd(rng);
      for (auto& x : k) x = __float2half(nd(rng));
      for (auto& x : v) x = __float2half(nd(rng));
      std::vector<std::int32_t> positions(static_cast<std::size_t>(T));
      for (int t = 0; t < T; ++t) positions[t] = t;
      float *d_q = nullptr, *d_out = nullptr;
      __half *d_k = nullptr, *d_v = nullptr;
      std::int32_t* d_pos = nullptr;
      check(cudaMalloc(&d_q, q_elems * 4), "cudaMalloc q");
      check(cudaMalloc(&d_out, q_elems * 4), "cudaMalloc out");
      check(cudaMalloc(&d_k, kv_elems * 2), "cudaMalloc k");
      check(cudaMalloc(&d_v, kv_elems * 2), "cudaMalloc v");
      check(cudaMalloc(&d_pos, static_cast<std::size_t>(T) * 4), "cudaMalloc positions");
      check(cudaMemcpy(d_q, q.data(), q_elems * 4, cudaMemcpyHostToDevice), "q upload");
      check(cudaMemcpy(d_k, k.data(), kv_elems * 2, cudaMemcpyHostToDevice), "k upload");
      check(cudaMemcpy(d_v, v.data(), kv_elems * 2, cudaMemcpyHostToDevice), "v upload");
      check(cudaMemcpy(d_pos, positions.data(), static_cast<std::size_t>(T) * 4, cudaMemcpyHostToDevice), "positions");
      kc::AttentionCudaParams p;
      p.n_heads = L.n_heads;
      p.n_kv_heads = L.n_kv_heads;
      p.head_dim = L.head_dim;
      p.scale = 1.0f / std::sqrt(static_cast<float>(L.head_dim));
      p.k_cache = d_k;
      p.v_cache = d_v;
      const double flops = 4.0 * L.head_dim * L.n_heads * (static_cast<double>(T) * (T + 1) / 2);
      for (const Kernel& kernel : kernels) {
        if (T > 512 && !std::strcmp(kernel.name, "warp")) continue;  // minutes of CPU reference for a baseline
        check(cudaMemset(d_out, 0xFF, q_elems * 4), "poison out");
        kernel.run(p, d_q, d_pos, T, d_out, nullptr);
        check(cudaDeviceSynchronize(), kernel.name);
        std::vector<float> out(q_elems);
        check(cudaMemcpy(out.data(), d_out, q_elems * 4, cudaMemcpyDeviceToHost), "out download");
        const double err = error_vs_cpu(L, T, q, k, v, out);
        cudaEvent_t e0, e1;
        cudaEventCreate(&e0);
        cudaEventCreate(&e1);
        std::vector<double> t;
        for (int r = 0; r < reps + 2; ++r) {
          cudaEventRecord(e0);
          kernel.run(p, d_q, d_pos, T, d_out, nullptr);
          cudaEventRecord(e1);
          check(cudaEventSynchronize(e1), kernel.name);
          float ms = 0;
          cudaEventElapsedTime(&ms, e0, e1);
          if (r >= 2) t.push_back(ms * 1e-3);
        }
        const double s = median(t);
        std::printf("%-26s %6d %6s %10.1f %9.1f %11.2e\n", L.model, T, kernel.name, s * 1e6, flops / s / 1e12, err);
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
      }
      cudaFree(d_q);
      cudaFree(d_out);
      cudaFree(d_k);
      cudaFree(d_v);
      cudaFree(d_pos);
    }
  }
  return 0;
}
