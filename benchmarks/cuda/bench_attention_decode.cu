// Workbench of the decode attention kernel (kernels::cuda::attention_decode), in the style of
// llm.c's dev/cuda: it links the production kernel, checks it against a CPU reference (double
// accumulation) and times it at several cache lengths on the Llama-2-7B and DeepSeek-Coder-1.3B
// head layouts: the cluster kernel (split "-1", on sm_90), and the split-K 16-byte-load kernel
// with 32, 64 and 128 keys a split (EAQ_CUDA_DECODE_ATTENTION=lanes times the
// lane-per-key kernel, whose split is always 128). Bandwidth is the K and V bytes a step reads over the median time, beside a
// device-to-device copy measured in the same run. Each timed graph cycles over enough layers'
// caches to exceed the L2 cache, as a decode step does, and the kernels run with programmatic
// dependent launch as in the engine's graph.
//
//   bench_attention_decode [--reps N]
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/decoder_ops.h"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
using eaq::workbench::graph_seconds_per_call;
using eaq::workbench::parse_reps;

namespace kc = eaq::kernels::cuda;

struct Layout {
  const char* model;
  int n_heads, n_kv_heads, head_dim, max_positions;
};

template <typename T>
T* device_array(std::size_t n, const char* what) {
  T* p = nullptr;
  check(cudaMalloc(&p, n * sizeof(T)), what);
  return p;
}

struct Layer {
  __half* k = nullptr;
  __half* v = nullptr;
};

// max |gpu - reference| / max |reference| of one call with a ready query at `position`.
double check_against_cpu(const Layout& L, const Layer& layer, const std::vector<__half>& k_host,
                         const std::vector<__half>& v_host, int position, int split_keys, float* d_q,
                         float* d_partial, unsigned* d_counters, float* d_out, std::int32_t* d_pos) {
  const int hd = L.head_dim, group = L.n_heads / L.n_kv_heads;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> q(static_cast<std::size_t>(L.n_heads) * hd);
  for (auto& x : q) x = nd(rng);
  check(cudaMemcpy(d_q, q.data(), q.size() * 4, cudaMemcpyHostToDevice), "q upload");
  check(cudaMemcpy(d_pos, &position, 4, cudaMemcpyHostToDevice), "position upload");
  kc::AttentionCudaParams p;
  p.n_heads = L.n_heads;
  p.n_kv_heads = L.n_kv_heads;
  p.head_dim = hd;
  p.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p.k_cache = layer.k;
  p.v_cache = layer.v;
  kc::attention_decode(p, nullptr, d_q, d_pos, kc::decode_max_splits(L.max_positions), d_partial, d_counters, d_out,
                       nullptr, split_keys);
  check(cudaDeviceSynchronize(), "attention_decode");
  std::vector<float> out(q.size());
  check(cudaMemcpy(out.data(), d_out, out.size() * 4, cudaMemcpyDeviceToHost), "out download");
  double max_ref = 0, max_err = 0;
  const std::size_t stride = static_cast<std::size_t>(L.n_kv_heads) * hd;
  for (int h = 0; h < L.n_heads; ++h) {
    const int kvh = h / group;
    std::vector<double> s(static_cast<std::size_t>(position) + 1);
    double m = -INFINITY;
    for (int t = 0; t <= position; ++t) {
      double dot = 0;
      for (int d = 0; d < hd; ++d)
        dot += static_cast<double>(q[h * hd + d]) * __half2float(k_host[t * stride + kvh * hd + d]);
      s[t] = dot * p.scale;
      m = std::max(m, s[t]);
    }
    double l = 0;
    for (auto& x : s) l += (x = std::exp(x - m));
    for (int d = 0; d < hd; ++d) {
      double acc = 0;
      for (int t = 0; t <= position; ++t) acc += s[t] * __half2float(v_host[t * stride + kvh * hd + d]);
      acc /= l;
      max_ref = std::max(max_ref, std::abs(acc));
      max_err = std::max(max_err, std::abs(acc - out[h * hd + d]));
    }
  }
  return max_err / max_ref;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = parse_reps(argc, argv, 50);
  const eaq::workbench::WorkbenchGpu gpu = eaq::workbench::describe_gpu();
  const cudaDeviceProp& prop = gpu.prop;
  const double copy = gpu.copy_bytes_per_s;
  std::printf("%-26s %6s %6s %8s %10s %8s %8s %11s\n", "layout", "pos", "split", "layers", "us/call", "GB/s", "%copy",
              "max rel err");
  const Layout layouts[] = {{"llama2-7b (32/32x128)", 32, 32, 128, 4096},
                            {"ds-coder-1.3b (16/16x128)", 16, 16, 128, 4096},
                            // The same heads in a 1024-position cache: fewer blocks that exit at once.
                            {"ds-coder-1.3b, 1024 ctx", 16, 16, 128, 1024},
                            {"qwen-1.5b (12/2x128)", 12, 2, 128, 4096}};
  for (const Layout& L : layouts) {
    const std::size_t cache_elems = static_cast<std::size_t>(L.max_positions) * L.n_kv_heads * L.head_dim;
    // Enough layers that a pass over them at 576 positions reads 4x the L2 cache.
    const double bytes_576 = 576.0 * L.n_kv_heads * L.head_dim * 2 * 2;
    const int n_layers = std::max(4, static_cast<int>(4.0 * prop.l2CacheSize / bytes_576) + 1);
    std::vector<Layer> layers(static_cast<std::size_t>(n_layers));
    std::vector<__half> k_host(cache_elems), v_host(cache_elems);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : k_host) x = __float2half(nd(rng));
    for (auto& x : v_host) x = __float2half(nd(rng));
    for (Layer& layer : layers) {
      layer.k = device_array<__half>(cache_elems, "cudaMalloc k cache");
      layer.v = device_array<__half>(cache_elems, "cudaMalloc v cache");
      check(cudaMemcpy(layer.k, k_host.data(), cache_elems * 2, cudaMemcpyHostToDevice), "k upload");
      check(cudaMemcpy(layer.v, v_host.data(), cache_elems * 2, cudaMemcpyHostToDevice), "v upload");
    }
    const int max_splits = kc::decode_max_splits(L.max_positions);
    const std::size_t q_elems = static_cast<std::size_t>(L.n_heads) * L.head_dim;
    float* d_q = device_array<float>(q_elems, "cudaMalloc q");
    float* d_out = device_array<float>(q_elems, "cudaMalloc out");
    float* d_partial = device_array<float>(static_cast<std::size_t>(L.n_heads) * max_splits * (L.head_dim + 2),
                                           "cudaMalloc partial");
    unsigned* d_counters = device_array<unsigned>(static_cast<std::size_t>(L.n_heads), "cudaMalloc counters");
    check(cudaMemset(d_counters, 0, static_cast<std::size_t>(L.n_heads) * 4), "counters");
    std::int32_t* d_pos = device_array<std::int32_t>(1, "cudaMalloc position");
    for (int position : {63, 575, 2047, 4095}) {
      for (int split_keys : {kc::kDecodeCluster, 32, 64, 128}) {  // the cluster kernel (sm_90), split-K
        if (position >= L.max_positions) continue;
        const double err = check_against_cpu(L, layers[0], k_host, v_host, position, split_keys, d_q, d_partial,
                                             d_counters, d_out, d_pos);
        kc::AttentionCudaParams p;
        p.n_heads = L.n_heads;
        p.n_kv_heads = L.n_kv_heads;
        p.head_dim = L.head_dim;
        p.scale = 1.0f / std::sqrt(static_cast<float>(L.head_dim));
        const double s = graph_seconds_per_call(
            [&](cudaStream_t stream) {
              for (const Layer& layer : layers) {
                p.k_cache = layer.k;
                p.v_cache = layer.v;
                kc::attention_decode(p, nullptr, d_q, d_pos, max_splits, d_partial, d_counters, d_out, stream,
                                     split_keys);
              }
            },
            n_layers, reps);
        const double bytes = 2.0 * (position + 1) * L.n_kv_heads * L.head_dim * 2;
        std::printf("%-26s %6d %6d %8d %10.2f %8.0f %7.1f%% %11.2e\n", L.model, position + 1, split_keys, n_layers,
                    s * 1e6, bytes / s / 1e9, 100.0 * bytes / s / copy, err);
      }
    }
    for (Layer& layer : layers) {
      cudaFree(layer.k);
      cudaFree(layer.v);
    }
    cudaFree(d_q);
    cudaFree(d_out);
    cudaFree(d_partial);
    cudaFree(d_counters);
    cudaFree(d_pos);
  }
  return 0;
}
