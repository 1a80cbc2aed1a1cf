// Workbench of the packed weights' prefill GEMM, in the style of llm.c's dev/cuda: CUTLASS's
// mixed-input GEMM (mixed_gemm, src/kernels/cuda/mixed_input_gemm.h) against the engine's
// dequantizing prefill (dequantize_rows_f16 in slices of <= 64 MiB of f16, then the tuned
// cuBLASLt GEMM, then for i8_ch the row scales on the output), each matrix at 512 tokens, beside
// cuBLAS on the same weight already in f16 (what an f16 model's prefill runs: the bound the
// packed prefill can hope for). Check: the mixed GEMM's output against the dequantizing path's,
// max |Δ| over max |y| (the same f16 products summed in another order: ~1e-6 expected; a wrong
// layout gives ~1).
//
//   bench_mixed_gemm [--formats i4s_g128,i4s_g64,i8_ch] [--quick] [--reps N] [--tokens T]
//
// Shapes: Llama-2-7B's four prefill GEMMs (q|k|v, o, gate|up, down); --quick: DeepSeek-Coder-1.3B's.
// TFLOP/s: 2 x rows x cols x tokens over the median time of a CUDA graph of back-to-back calls.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/half_gemm.h"
#include "kernels/cuda/mixed_input_gemm.h"
#include "workbench_timing.cuh"
#include "workbench_weights.cuh"

namespace {

using eaq::DType;
using eaq::workbench::check;
namespace kc = eaq::kernels::cuda;

using eaq::workbench::engine_slice_rows;
using eaq::workbench::engine_slice_stride;
using eaq::workbench::kEngineSliceHalves;

// The engine's dequantizing prefill of one matrix (cuda_decoder_lm_forward_cuda.cpp): slices of
// rows dequantized into `slice`, each multiplied by cuBLAS into its columns of y, the per-row
// scale (i8_ch) applied to the output.
void dequantizing_gemm(kc::HalfGemm& gemm, const kc::GpuWeight& w, void* slice, const void* x, std::int64_t tokens,
                       float* y, cudaStream_t stream) {
  const std::int64_t stride = engine_slice_stride(w.cols), rows_a_slice = engine_slice_rows(w.cols);
  const float* scales = kc::row_scales(w);
  for (std::int64_t r0 = 0; r0 < w.rows; r0 += rows_a_slice) {
    const std::int64_t n = std::min(rows_a_slice, w.rows - r0);
    kc::dequantize_rows_f16(w, r0, n, stride, scales == nullptr, slice, stream);
    gemm.run(DType::F16, slice, n, w.cols, stride, x, tokens, y + r0, w.rows);
    if (scales) kc::scale_columns(y + r0, w.rows, tokens, scales + r0, n, stream);
  }
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float f : v) m = std::max(m, static_cast<double>(std::abs(f)));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int tokens = 512;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tokens") && i + 1 < argc && std::atoi(argv[i + 1]) > 8) {
      tokens = std::atoi(argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  const eaq::workbench::FormatArgs args = eaq::workbench::parse_format_args(
      static_cast<int>(rest.size()), rest.data(), {"i4s_g128", "i4s_g64", "i8_ch"}, false,
      "[--formats i4s_g128,i4s_g64,i8_ch] [--quick] [--reps N] [--tokens T > 8]");
  eaq::workbench::describe_gpu();  // its first line: the GPU
  if (!kc::mixed_gemm_available()) {
    std::fprintf(stderr, "bench_mixed_gemm: the mixed-input GEMM is not available (a build without CUTLASS's headers, "
                         "or a GPU that is not compute capability 9.0)\n");
    return 1;
  }
  std::printf(
      "tokens %d; us: median a call (a CUDA graph of back-to-back calls); TFLOP/s: 2 rows cols tokens / time; "
      "f16 cuBLAS: the same weight already f16 (an f16 model's GEMM); dequantizing: the engine's prefill until now; "
      "check: max |mixed - dequantizing| / max |dequantizing|.\n\n"
      "| format | matrix | f16 cuBLAS us (TFLOP/s) | dequantizing us (TFLOP/s) | mixed us (TFLOP/s) | "
      "mixed's speed-up over dequantizing | mixed's speed / f16 cuBLAS's | check |\n|---|---|---|---|---|---|---|---|\n",
      tokens);
  const std::vector<eaq::workbench::MatrixShape> shapes = eaq::workbench::prefill_matrix_shapes(args.quick);
  std::int64_t max_cols = 0, max_rows = 0, max_elems = 0;
  for (const eaq::workbench::MatrixShape& s : shapes) {
    max_cols = std::max(max_cols, s.cols);
    max_rows = std::max(max_rows, s.rows);
    max_elems = std::max(max_elems, s.rows * s.cols);
  }
  // x: random f16 in [-1, 1); y buffers; the dequantizing slice; the whole matrix in f16.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<std::uint16_t> x_host(static_cast<std::size_t>(tokens * max_cols));
  for (auto& v : x_host) v = eaq::f32_to_f16(uni(rng));
  void *x = nullptr, *slice = nullptr, *w16 = nullptr;
  float *y_ref = nullptr, *y_mixed = nullptr;
  check(cudaMalloc(&x, x_host.size() * 2), "cudaMalloc x");
  check(cudaMemcpy(x, x_host.data(), x_host.size() * 2, cudaMemcpyHostToDevice), "upload x");
  check(cudaMalloc(&slice, static_cast<std::size_t>(kEngineSliceHalves) * 2), "cudaMalloc slice");
  check(cudaMalloc(&w16, static_cast<std::size_t>(max_elems) * 2), "cudaMalloc f16 weight");
  const std::size_t y_bytes = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(max_rows) * sizeof(float);
  check(cudaMalloc(&y_ref, y_bytes), "cudaMalloc y");
  check(cudaMalloc(&y_mixed, y_bytes), "cudaMalloc y");
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  kc::HalfGemm gemm(stream, nullptr, 0);
  bool ok = true;
  std::uint64_t seed = 5;
  for (const std::string& name : args.formats) {
    const auto dtype = eaq::dtype_from_name(name);
    if (!dtype || !kc::mixed_gemm_takes(*dtype, 16, 64)) {
      std::fprintf(stderr, "bench_mixed_gemm: '%s' is not a format the mixed-input GEMM takes\n", name.c_str());
      return 2;
    }
    for (const eaq::workbench::MatrixShape& s : shapes) {
      const eaq::workbench::RandomWeight random = eaq::workbench::upload_random_weight(*dtype, s.rows, s.cols, seed++);
      kc::MixedGemmWeight mixed;
      try {
        mixed = kc::upload_mixed_gemm_weight(
            eaq::kernels::WeightRef{*dtype, s.rows, s.cols, random.host.data(), random.host_stride});
        // Reference: the dequantizing prefill; then the mixed GEMM; compared.
        const std::size_t n = static_cast<std::size_t>(tokens * s.rows);
        check(cudaMemsetAsync(y_mixed, 0xFF, n * sizeof(float), stream), "poison y");  // NaN: unwritten
        dequantizing_gemm(gemm, random.gpu, slice, x, tokens, y_ref, stream);
        kc::mixed_gemm(mixed, x, tokens, y_mixed, s.rows, false, stream);
        check(cudaStreamSynchronize(stream), "reference runs");
        std::vector<float> ref(n), got(n);
        check(cudaMemcpy(ref.data(), y_ref, n * sizeof(float), cudaMemcpyDeviceToHost), "copy y");
        check(cudaMemcpy(got.data(), y_mixed, n * sizeof(float), cudaMemcpyDeviceToHost), "copy y");
        double max_diff = 0;
        bool finite = true;
        for (std::size_t i = 0; i < n; ++i) {
          if (!std::isfinite(got[i])) finite = false;
          max_diff = std::max(max_diff, static_cast<double>(std::abs(got[i] - ref[i])));
        }
        const double rel = max_diff / std::max(max_abs(ref), 1e-30);
        const bool pass = finite && rel <= 1e-4;
        ok = ok && pass;
        // The whole matrix in f16 for cuBLAS alone (row scales applied: the f16 model's weight).
        kc::dequantize_rows_f16(random.gpu, 0, s.rows, s.cols, true, w16, stream);
        gemm.run(DType::F16, w16, s.rows, s.cols, s.cols, x, tokens, y_ref, s.rows);  // tunes outside the capture
        check(cudaStreamSynchronize(stream), "f16 GEMM");
        const int calls = 4;
        // On `stream`, the one gemm is bound to (its tuned picks run: every shape was run above).
        const double t_f16 = eaq::workbench::graph_seconds_per_call_on(
            stream,
            [&](cudaStream_t) {
              for (int c = 0; c < calls; ++c) gemm.run(DType::F16, w16, s.rows, s.cols, s.cols, x, tokens, y_ref, s.rows);
            },
            calls, args.reps);
        const double t_deq = eaq::workbench::graph_seconds_per_call_on(
            stream,
            [&](cudaStream_t st) {
              for (int c = 0; c < calls; ++c) dequantizing_gemm(gemm, random.gpu, slice, x, tokens, y_ref, st);
            },
            calls, args.reps);
        const double t_mixed = eaq::workbench::graph_seconds_per_call_on(
            stream,
            [&](cudaStream_t st) {
              for (int c = 0; c < calls; ++c) kc::mixed_gemm(mixed, x, tokens, y_mixed, s.rows, false, st);
            },
            calls, args.reps);
        const double flop = 2.0 * static_cast<double>(s.rows) * static_cast<double>(s.cols) * tokens;
        auto tf = [&](double t) { return flop / t / 1e12; };
        std::printf("| %s | %s | %.1f (%.0f) | %.1f (%.0f) | %.1f (%.0f) | %.2fx | %.2fx | %.1e%s |\n", name.c_str(),
                    s.what, t_f16 * 1e6, tf(t_f16), t_deq * 1e6, tf(t_deq), t_mixed * 1e6, tf(t_mixed), t_deq / t_mixed,
                    t_f16 / t_mixed, rel, pass ? "" : (finite ? " FAIL" : " FAIL (unwritten values)"));
        std::fflush(stdout);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_mixed_gemm: %s %s: %s\n", name.c_str(), s.what, e.what());
        ok = false;
      }
      kc::free_mixed_gemm_weight(mixed);
      kc::GpuWeight g = random.gpu;
      kc::free_weight(g);
    }
  }
  std::printf("\nreference check (mixed GEMM within 1e-4 of max |y| of the dequantizing prefill's): %s\n",
              ok ? "all pass" : "FAILURES above");
  return ok ? 0 : 1;
}
