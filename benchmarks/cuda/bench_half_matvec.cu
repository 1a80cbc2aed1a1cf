// Workbench of the dense f16 decode GEMV (kernels::cuda::half_matvec), the default for half
// weights, in the style of llm.c's dev/cuda: it links the production kernel, checks it against a
// CPU reference (double accumulation) and times it, batch 1, on the projections of the
// DeepSeek-Coder-1.3B, R1-Distill-Qwen-1.5B and Llama-2-7B decode steps, in three forms: plain
// (y = W x), with the input RMSNorm folded in (HalfMatvecFusion::norm_weight, as
// EAQ_CUDA_FUSED_NORM=gemv runs QKV and gate|up), adding into y (the residual epilogue of
// o_proj and down), and, for the gate|up matrices, gated (HalfMatvecFusion::gate: SwiGLU of the
// two halves' rows, as the decode step runs gate|up). Bandwidth is the weight bytes over the median time, beside a device-to-device
// copy measured in the same run. Each timed CUDA graph cycles over enough copies of the matrix to
// exceed 4x the L2 cache, as a decode step does, on a stream with programmatic dependent launch.
//
//   bench_half_matvec [--reps N]
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cuda/decoder_ops.h"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
using eaq::workbench::graph_seconds_per_call;
using eaq::workbench::parse_reps;

namespace kc = eaq::kernels::cuda;

struct Matrix {
  const char* name;
  long long rows, cols;
};

enum class Form { kPlain, kNorm, kAccumulate, kGated };

const char* form_name(Form f) {
  return f == Form::kPlain ? "plain" : f == Form::kNorm ? "norm" : f == Form::kAccumulate ? "y +=" : "gated";
}

kc::HalfMatvecFusion fusion_of(Form f, const float* d_g) {
  kc::HalfMatvecFusion fusion;
  if (f == Form::kNorm) {
    fusion.norm_weight = d_g;
    fusion.norm_eps = 1e-6f;
  }
  fusion.accumulate = f == Form::kAccumulate;
  if (f == Form::kGated) fusion.gate = kc::Gate::kSilu;
  return fusion;
}

// max |gpu - cpu| / max |cpu| of one call on the first copy; y starts at y0 (kAccumulate adds to it).
double check_against_cpu(const Matrix& m, Form form, const std::vector<__half>& w, const std::vector<float>& x,
                         const std::vector<float>& g, const std::vector<float>& y0, const __half* d_w,
                         const float* d_x, const float* d_g, float* d_y) {
  check(cudaMemcpy(d_y, y0.data(), y0.size() * 4, cudaMemcpyHostToDevice), "y upload");
  kc::half_matvec(d_w, eaq::DType::F16, m.rows, m.cols, m.cols, d_x, 1, d_y, nullptr, fusion_of(form, d_g));
  check(cudaDeviceSynchronize(), "half_matvec");
  std::vector<float> y(y0.size());
  check(cudaMemcpy(y.data(), d_y, y.size() * 4, cudaMemcpyDeviceToHost), "y download");
  double inv_rms = 1.0;
  if (form == Form::kNorm) {
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    inv_rms = 1.0 / std::sqrt(ss / static_cast<double>(m.cols) + 1e-6);
  }
  auto row_dot = [&](long long r) {
    double dot = 0;
    for (long long k = 0; k < m.cols; ++k) {
      const double xk = form == Form::kNorm ? x[k] * inv_rms * g[k] : x[k];
      dot += static_cast<double>(__half2float(w[r * m.cols + k])) * xk;
    }
    return dot;
  };
  double max_ref = 0, max_err = 0;
  const long long outputs = form == Form::kGated ? m.rows / 2 : m.rows;
  for (long long r = 0; r < outputs; ++r) {
    double ref = row_dot(r);
    if (form == Form::kAccumulate) ref += y0[r];
    if (form == Form::kGated) ref = ref / (1.0 + std::exp(-ref)) * row_dot(outputs + r);  // silu(gate) * up
    max_ref = std::max(max_ref, std::abs(ref));
    max_err = std::max(max_err, std::abs(ref - y[r]));
  }
  return max_err / max_ref;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = parse_reps(argc, argv, 30);
  const eaq::workbench::WorkbenchGpu gpu = eaq::workbench::describe_gpu();
  const cudaDeviceProp& prop = gpu.prop;
  const double copy = gpu.copy_bytes_per_s;
  std::printf("%-24s %12s %6s %8s %10s %8s %8s %11s\n", "matrix", "rows x cols", "form", "copies", "us/call", "GB/s",
              "%copy", "max rel err");
  const Matrix matrices[] = {{"1.3B q|k|v", 6144, 2048},     {"1.3B o_proj", 2048, 2048},
                             {"1.3B gate|up", 11008, 2048},  {"1.3B down", 2048, 5504},
                             {"1.3B lm_head", 32256, 2048},  {"1.5B q|k|v", 2048, 1536},
                             {"1.5B o_proj", 1536, 1536},    {"1.5B gate|up", 17920, 1536},
                             {"1.5B down", 1536, 8960},      {"7B q|k|v", 12288, 4096},
                             {"7B o_proj", 4096, 4096},      {"7B gate|up", 22016, 4096},
                             {"7B down", 4096, 11008}};
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const Matrix& m : matrices) {
    const std::size_t elems = static_cast<std::size_t>(m.rows) * m.cols;
    const double bytes = 2.0 * static_cast<double>(elems);
    const int copies = std::max(2, static_cast<int>(4.0 * prop.l2CacheSize / bytes) + 1);
    std::vector<__half> w(elems);
    for (auto& v : w) v = __float2half(0.05f * nd(rng));
    std::vector<float> x(static_cast<std::size_t>(m.cols)), g(x.size()), y0(static_cast<std::size_t>(m.rows));
    for (auto& v : x) v = 4.0f * nd(rng);
    for (auto& v : g) v = 1.0f + 0.1f * nd(rng);
    for (auto& v : y0) v = nd(rng);
    std::vector<__half*> d_w(static_cast<std::size_t>(copies));
    for (auto& p : d_w) {
      check(cudaMalloc(&p, elems * sizeof(__half)), "cudaMalloc weights");
      check(cudaMemcpy(p, w.data(), elems * sizeof(__half), cudaMemcpyHostToDevice), "weights upload");
    }
    float *d_x = nullptr, *d_g = nullptr, *d_y = nullptr;
    check(cudaMalloc(&d_x, x.size() * 4), "cudaMalloc x");
    check(cudaMalloc(&d_g, g.size() * 4), "cudaMalloc g");
    check(cudaMalloc(&d_y, y0.size() * 4), "cudaMalloc y");
    check(cudaMemcpy(d_x, x.data(), x.size() * 4, cudaMemcpyHostToDevice), "x upload");
    check(cudaMemcpy(d_g, g.data(), g.size() * 4, cudaMemcpyHostToDevice), "g upload");
    const bool gate_up = std::strstr(m.name, "gate|up") != nullptr;
    for (Form form : {Form::kPlain, Form::kNorm, Form::kAccumulate, Form::kGated}) {
      if (form == Form::kGated && !gate_up) continue;
      const double err = check_against_cpu(m, form, w, x, g, y0, d_w[0], d_x, d_g, d_y);
      const double s = graph_seconds_per_call(
          [&](cudaStream_t stream) {
            for (const __half* p : d_w) {
              kc::half_matvec(p, eaq::DType::F16, m.rows, m.cols, m.cols, d_x, 1, d_y, stream, fusion_of(form, d_g));
            }
          },
          copies, reps);
      std::printf("%-24s %5lldx%-6lld %6s %8d %10.2f %8.0f %7.1f%% %11.2e\n", m.name, m.rows, m.cols, form_name(form),
                  copies, s * 1e6, bytes / s / 1e9, 100.0 * bytes / s / copy, err);
    }
    for (auto* p : d_w) cudaFree(p);
    cudaFree(d_x);
    cudaFree(d_g);
    cudaFree(d_y);
  }
  return 0;
}
