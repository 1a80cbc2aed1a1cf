// Workbench of the decode GEMV (src/kernels/cuda/cuda_gemv.h), in the style of llm.c's dev/cuda: it
// links the production kernels, checks each format against a CPU reference (eaq's scalar decoder of
// the same packed bytes, double accumulation) for batch 1..8, then times batch 1 and 8 on the
// Llama-2-7B and 1.3B decode shapes. Bandwidth is the bytes the kernel reads (codes + scales, as
// uploaded) over the median time, beside a device-to-device copy measured in the same run and the
// H100 SXM's nominal 3.35 TB/s. Weights rotate over enough copies to exceed 4x the L2 cache, so the
// timing is of HBM, not L2. Calls are timed as a CUDA graph (as the engine's decode step runs them)
// and as plain launches from the host.
//
//   bench_gemv [--formats f16,bf16,...] [--quick] [--reps N] [--out FILE.md]
//
// --quick: the 1.3B shapes only. Built by CMake with CUDA (target bench_gemv) or standalone by
// benchmarks/cuda/bench_gemv_device.sh.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "workbench_weights.cuh"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
using eaq::workbench::measure_copy_bytes_per_s;
using eaq::workbench::median;

using eaq::DType;
namespace kc = eaq::kernels::cuda;

constexpr double kNominalHbmBytesPerS = 3.35e12;  // H100 SXM5 80GB HBM3, datasheet

struct Shape {
  const char* model;
  std::int64_t rows, cols;
};


struct CheckResult {
  double max_rel = 0;  // max |gpu - ref| / max |ref|, over the sampled rows, batches 1..8
  bool all_written = true;
};

CheckResult check_against_cpu(DType dtype, const std::vector<std::uint8_t>& host, std::size_t stride,
                              const kc::GpuWeight& w, const float* d_x, const std::vector<float>& x, float* d_y) {
  const std::int64_t rows = w.rows, cols = w.cols;
  std::vector<std::int64_t> sample;
  if (rows <= 256) {
    for (std::int64_t r = 0; r < rows; ++r) sample.push_back(r);
  } else {
    for (std::int64_t r = 0; r < 32; ++r) sample.push_back(r);
    for (std::int64_t i = 1; i <= 64; ++i) sample.push_back(i * (rows - 64) / 65 + 32);
    for (std::int64_t r = rows - 32; r < rows; ++r) sample.push_back(r);
  }
  // Reference rows in double.
  std::vector<float> row(static_cast<std::size_t>(cols));
  std::vector<double> ref(sample.size() * kc::kMaxGemvBatch);
  for (std::size_t i = 0; i < sample.size(); ++i) {
    eaq::traits(dtype).dequantize_row(host.data() + static_cast<std::size_t>(sample[i]) * stride, row.data(),
                                      static_cast<std::size_t>(cols));
    for (int b = 0; b < kc::kMaxGemvBatch; ++b) {
      double s = 0;
      for (std::int64_t k = 0; k < cols; ++k) s += static_cast<double>(row[k]) * x[b * cols + k];
      ref[i * kc::kMaxGemvBatch + b] = s;
    }
  }
  CheckResult res;
  std::vector<float> y(static_cast<std::size_t>(kc::kMaxGemvBatch * rows));
  for (int batch = 1; batch <= kc::kMaxGemvBatch; ++batch) {
    check(cudaMemset(d_y, 0xFF, y.size() * 4), "poison y");  // NaN: unwritten outputs show
    kc::gemv(w, d_x, batch, d_y, nullptr);
    check(cudaGetLastError(), "gemv launch");
    check(cudaMemcpy(y.data(), d_y, static_cast<std::size_t>(batch * rows) * 4, cudaMemcpyDeviceToHost), "y copy");
    for (std::int64_t i = 0; i < batch * rows; ++i) {
      if (!std::isfinite(y[i])) res.all_written = false;
    }
    double max_ref = 0, max_err = 0;
    for (std::size_t i = 0; i < sample.size(); ++i) {
      for (int b = 0; b < batch; ++b) {
        const double r = ref[i * kc::kMaxGemvBatch + b];
        max_ref = std::max(max_ref, std::abs(r));
        const double g = y[b * rows + sample[i]];
        max_err = std::max(max_err, std::isfinite(g) ? std::abs(g - r) : INFINITY);
      }
    }
    res.max_rel = std::max(res.max_rel, max_err / max_ref);
  }
  return res;
}

struct Timing {
  double launched_s;  // per call, back-to-back launches from the host (launch overhead included)
  double graph_s;     // per call, the same calls captured in a CUDA graph (as the engine's decode step)
};

Timing time_gemv(const std::vector<kc::GpuWeight>& copies, const float* d_x, int batch, float* d_y, int reps,
                 cudaStream_t stream) {
  const int calls = std::max<int>(100, static_cast<int>(copies.size()));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  auto run_calls = [&] {
    for (int i = 0; i < calls; ++i) kc::gemv(copies[i % copies.size()], d_x, batch, d_y, stream);
  };
  auto time_reps = [&](auto&& body) {
    std::vector<double> per_call;
    for (int r = 0; r < reps; ++r) {
      cudaEventRecord(e0, stream);
      body();
      cudaEventRecord(e1, stream);
      check(cudaEventSynchronize(e1), "timed gemv");
      float ms = 0;
      cudaEventElapsedTime(&ms, e0, e1);
      per_call.push_back(ms * 1e-3 / calls);
    }
    return median(per_call);
  };
  run_calls();  // warm-up
  check(cudaStreamSynchronize(stream), "warm-up");
  Timing t{};
  t.launched_s = time_reps(run_calls);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), "cudaStreamBeginCapture");
  run_calls();
  check(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture (is gemv capturable?)");
  check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  check(cudaGraphLaunch(exec, stream), "graph warm-up");
  t.graph_s = time_reps([&] { check(cudaGraphLaunch(exec, stream), "cudaGraphLaunch"); });
  check(cudaGetLastError(), "gemv launches");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const eaq::workbench::FormatArgs args = eaq::workbench::parse_format_args(
      argc, argv, {"f16", "bf16", "i8_ch", "f8_e4m3_ch", "i4s_g128", "i4s_g64", "i4s_g32", "q8_0", "q4_0", "nf4", "q4_k"},
      true, "[--formats f16,bf16,...] [--quick] [--reps N] [--out FILE.md]");
  const std::vector<std::string>& formats = args.formats;
  const bool quick = args.quick;
  const int reps = args.reps;
  const std::string& out_path = args.out_path;
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDevice(&device), "cudaGetDevice (is there a GPU?)");
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  const double copy_bps = measure_copy_bytes_per_s();
  std::string header;
  char line[512];
  std::snprintf(line, sizeof line,
                "GPU: %s (cuda:%d, %d SMs, L2 %d MB, sm_%d%d). Device-to-device copy (measured, 1 GiB, read+write "
                "bytes / median of 20): %.0f GB/s; nominal HBM3 of the H100 SXM: %.0f GB/s.\n\n",
                prop.name, device, prop.multiProcessorCount, prop.l2CacheSize >> 20, prop.major, prop.minor,
                copy_bps / 1e9, kNominalHbmBytesPerS / 1e9);
  header += line;
  header +=
      "us: median per call of back-to-back calls captured in a CUDA graph (launched from the host: "
      "in brackets); GB/s: bytes the kernel reads (codes + scales as uploaded) / graph time; max rel err: "
      "max |gpu - cpu| / max |cpu| over sampled rows, batch 1..8, CPU = eaq's scalar decoder + double "
      "sums.\n\n"
      "| format | shape (model) | batch | us/call graph (launched) | MB read | GB/s | % of copy | % of 3.35 TB/s | "
      "max rel err |\n|---|---|---|---|---|---|---|---|---|\n";
  std::printf("%s", header.c_str());
  std::fflush(stdout);
  std::string table = header;

  std::vector<Shape> shapes = {{"1.3B", 2048, 2048}, {"1.3B", 5504, 2048}};
  if (!quick) {
    const std::vector<Shape> big = {{"7B", 4096, 4096}, {"7B", 11008, 4096}, {"7B", 4096, 11008}, {"7B", 32000, 4096}};
    shapes.insert(shapes.end(), big.begin(), big.end());
  }
  std::int64_t max_cols = 0, max_rows = 0;
  for (const Shape& s : shapes) {
    max_cols = std::max(max_cols, s.cols);
    max_rows = std::max(max_rows, s.rows);
  }
  float *d_x = nullptr, *d_y = nullptr;
  check(cudaMalloc(&d_x, static_cast<std::size_t>(kc::kMaxGemvBatch * max_cols) * 4), "cudaMalloc x");
  check(cudaMalloc(&d_y, static_cast<std::size_t>(kc::kMaxGemvBatch * max_rows) * 4), "cudaMalloc y");
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  bool ok = true;
  std::uint64_t seed = 1;
  for (const std::string& name : formats) {
    const auto dtype = eaq::dtype_from_name(name);
    if (!dtype || !kc::gemv_supports(*dtype)) {
      std::fprintf(stderr, "bench_gemv: unknown or unsupported format '%s'\n", name.c_str());
      return 2;
    }
    for (const Shape& s : shapes) {
      const eaq::workbench::RandomWeight random = eaq::workbench::upload_random_weight(*dtype, s.rows, s.cols, seed++);
      const kc::GpuWeight& w = random.gpu;
      kc::GemvRng rng(seed++);
      std::vector<float> x(static_cast<std::size_t>(kc::kMaxGemvBatch * s.cols));
      for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
      check(cudaMemcpy(d_x, x.data(), x.size() * 4, cudaMemcpyHostToDevice), "x copy");
      const CheckResult cr = check_against_cpu(*dtype, random.host, random.host_stride, w, d_x, x, d_y);
      const bool pass = cr.all_written && cr.max_rel < 1e-4;
      ok = ok && pass;

      const std::vector<kc::GpuWeight> copies =
          eaq::workbench::weight_copies(w, static_cast<std::size_t>(prop.l2CacheSize));
      for (int batch : {1, 8}) {
        const Timing t = time_gemv(copies, d_x, batch, d_y, reps, stream);
        const double bps = static_cast<double>(w.device_bytes) / t.graph_s;
        std::snprintf(line, sizeof line,
                      "| %s | %lldx%lld (%s) | %d | %.2f (%.2f) | %.2f | %.0f | %.1f | %.1f | %.2e%s |\n",
                      name.c_str(), static_cast<long long>(s.rows), static_cast<long long>(s.cols), s.model, batch,
                      t.graph_s * 1e6, t.launched_s * 1e6, static_cast<double>(w.device_bytes) / 1e6, bps / 1e9,
                      100.0 * bps / copy_bps,
                      100.0 * bps / kNominalHbmBytesPerS, cr.max_rel,
                      pass ? "" : (cr.all_written ? " FAIL" : " FAIL (unwritten outputs)"));
        std::printf("%s", line);
        std::fflush(stdout);
        table += line;
      }
      for (kc::GpuWeight c : copies) kc::free_weight(c);
    }
  }
  cudaStreamDestroy(stream);
  cudaFree(d_x);
  cudaFree(d_y);
  if (!out_path.empty()) {
    FILE* f = std::fopen(out_path.c_str(), "w");
    if (f != nullptr) {
      std::fputs(table.c_str(), f);
      std::fclose(f);
    }
  }
  std::printf("\nreference check (max |gpu - cpu| / max |cpu| < 1e-4, every output written): %s\n",
              ok ? "all pass" : "FAILURES above");
  return ok ? 0 : 1;
}
