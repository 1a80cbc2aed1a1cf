// Workbench of the prefill's dequantization (dequantize_rows_f16, src/kernels/cuda/dequantize_f16.cu),
// in the style of llm.c's dev/cuda: it links the production kernel, checks each format against the
// CPU's dequantize() of the same packed bytes rounded to f16, then times a whole matrix dequantized
// as the engine's prefill does it: slices of rows of at most 64 MiB of f16 (the engine's
// EAQ_CUDA_DEQUANT_SLICE_MIB default), each written over the same f16 buffer. Bandwidth is the
// bytes it moves (codes + scales as uploaded, read; the f16 values, written) over the median time,
// beside a device-to-device copy (read + write) measured in the same run. Weights rotate over
// enough copies to exceed 4x the L2 cache; the f16 buffer is reused, as in the engine.
//
//   bench_dequantize [--formats i4s_g128,i8_ch,...] [--quick] [--reps N]
//
// Shapes: Llama-2-7B's four prefill GEMM operands (q|k|v, o, gate|up, down); --quick: the
// DeepSeek-Coder-1.3B ones. Formats: those a packed GPU weight can have (f16/bf16 need none).
// Why: dequantization was 39% of the 7B int4-g128 prefill-512 on an H100 (2026-12-07, docs/cuda.md);
// the engine's benchmark shows it only inside the prefill.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "kernels/cuda/cuda_gemv.h"
#include "workbench_weights.cuh"
#include "workbench_timing.cuh"

namespace {

using eaq::DType;
using eaq::workbench::check;
namespace kc = eaq::kernels::cuda;

using eaq::workbench::engine_slice_rows;
using eaq::workbench::engine_slice_stride;
using Shape = eaq::workbench::MatrixShape;

// All of w dequantized slice by slice into out, as the prefill does (the per-row scale applied
// here, where the engine applies it to the GEMM's output instead: the same bytes are moved).
void dequantize_matrix(const kc::GpuWeight& w, void* out, cudaStream_t stream) {
  const std::int64_t stride = engine_slice_stride(w.cols), slice = engine_slice_rows(w.cols);
  for (std::int64_t r0 = 0; r0 < w.rows; r0 += slice) {
    kc::dequantize_rows_f16(w, r0, std::min(slice, w.rows - r0), stride, true, out, stream);
  }
}

// Largest |gpu - cpu| over sampled rows relative to the dequantization test's tolerance (one f16
// rounding of the CPU's value, |v| 2^-10 + 2^-24: the scale products may differ in their last f32
// bit; tests/unit/kernels/gemv_test_shapes.h), and whether every sampled value was written.
struct CheckResult {
  double max_of_tolerance = 0;
  bool all_written = true;
};

CheckResult check_against_cpu(DType dtype, const std::vector<std::uint8_t>& host, std::size_t host_stride,
                              const kc::GpuWeight& w, std::uint16_t* d_out) {
  CheckResult res;
  const std::int64_t stride = engine_slice_stride(w.cols), slice = engine_slice_rows(w.cols);
  std::vector<float> ref(static_cast<std::size_t>(w.cols));
  std::vector<std::uint16_t> got(static_cast<std::size_t>(w.cols));
  for (std::int64_t r0 = 0; r0 < w.rows; r0 += slice) {
    const std::int64_t n = std::min(slice, w.rows - r0);
    check(cudaMemset(d_out, 0xFF, static_cast<std::size_t>(n * stride) * 2), "poison out");  // NaN: unwritten
    kc::dequantize_rows_f16(w, r0, n, stride, true, d_out, nullptr);
    check(cudaGetLastError(), "dequantize launch");
    // The slice's first, middle and last rows.
    for (const std::int64_t r : {std::int64_t{0}, n / 2, n - 1}) {
      check(cudaMemcpy(got.data(), d_out + r * stride, got.size() * 2, cudaMemcpyDeviceToHost), "row copy");
      eaq::dequantize(dtype, host.data() + static_cast<std::size_t>(r0 + r) * host_stride, ref.data(),
                      static_cast<std::size_t>(w.cols));
      for (std::size_t c = 0; c < ref.size(); ++c) {
        const float g = eaq::f16_to_f32(got[c]);
        if (!std::isfinite(g)) {
          res.all_written = false;
          continue;
        }
        const double tolerance = std::abs(static_cast<double>(ref[c])) * 0x1p-10 + 0x1p-24;
        res.max_of_tolerance = std::max(res.max_of_tolerance, std::abs(static_cast<double>(g) - ref[c]) / tolerance);
      }
    }
  }
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  const eaq::workbench::FormatArgs args = eaq::workbench::parse_format_args(
      argc, argv, {"i4s_g128", "i4s_g64", "i4s_g32", "q4_0", "i8_ch", "f8_e4m3_ch", "q8_0", "nf4", "q4_k"}, false,
      "[--formats i4s_g128,i8_ch,...] [--quick] [--reps N]");
  const std::vector<std::string>& formats = args.formats;
  const bool quick = args.quick;
  const int reps = args.reps;
  const eaq::workbench::WorkbenchGpu gpu = eaq::workbench::describe_gpu();
  std::printf(
      "us: median per matrix (slices of <= 64 MiB of f16 into one buffer, a CUDA graph of back-to-back matrices); "
      "GB/s: codes + scales read and f16 written / time; check: max |gpu - cpu| over one f16 rounding of the CPU's "
      "dequantize() (|v| 2^-10 + 2^-24; <= 1 passes), first/middle/last row of every slice.\n\n"
      "| format | layout | matrix | us | MB read | MB written | GB/s | %% of copy | check |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  const std::vector<Shape> shapes = eaq::workbench::prefill_matrix_shapes(quick);
  std::int64_t max_halves = 0;
  for (const Shape& s : shapes) max_halves = std::max(max_halves, engine_slice_rows(s.cols) * engine_slice_stride(s.cols));
  std::uint16_t* d_out = nullptr;
  check(cudaMalloc(&d_out, static_cast<std::size_t>(max_halves) * 2), "cudaMalloc the f16 slice");
  bool ok = true;
  std::uint64_t seed = 7;
  for (const std::string& name : formats) {
    const auto dtype = eaq::dtype_from_name(name);
    if (!dtype || !kc::gemv_supports(*dtype) || *dtype == DType::F16 || *dtype == DType::BF16) {
      std::fprintf(stderr, "bench_dequantize: '%s' is not a packed GPU format\n", name.c_str());
      return 2;
    }
    for (const Shape& s : shapes) {
      const eaq::workbench::RandomWeight random = eaq::workbench::upload_random_weight(*dtype, s.rows, s.cols, seed++);
      const kc::GpuWeight& w = random.gpu;
      const CheckResult cr = check_against_cpu(*dtype, random.host, random.host_stride, w, d_out);
      const bool pass = cr.all_written && cr.max_of_tolerance <= 1.0;
      ok = ok && pass;
      const std::vector<kc::GpuWeight> copies =
          eaq::workbench::weight_copies(w, static_cast<std::size_t>(gpu.prop.l2CacheSize));
      const int calls = static_cast<int>(copies.size());
      const double seconds = eaq::workbench::graph_seconds_per_call(
          [&](cudaStream_t stream) {
            for (const kc::GpuWeight& c : copies) dequantize_matrix(c, d_out, stream);
          },
          calls, reps);
      const double read = static_cast<double>(w.device_bytes), written = 2.0 * static_cast<double>(s.rows * s.cols);
      const double bps = (read + written) / seconds;
      std::printf("| %s | %s | %s | %.2f | %.2f | %.2f | %.0f | %.1f | %.2f%s |\n", name.c_str(),
                  w.layout == kc::GemvLayout::mma_tiles ? "mma tiles" : "chunks", s.what, seconds * 1e6, read / 1e6,
                  written / 1e6, bps / 1e9, 100.0 * bps / gpu.copy_bytes_per_s, cr.max_of_tolerance,
                  pass ? "" : (cr.all_written ? " FAIL" : " FAIL (unwritten values)"));
      std::fflush(stdout);
      for (kc::GpuWeight c : copies) kc::free_weight(c);
    }
  }
  cudaFree(d_out);
  std::printf("\nreference check (every sampled value written, within one f16 rounding of the CPU's): %s\n",
              ok ? "all pass" : "FAILURES above");
  return ok ? 0 : 1;
}
