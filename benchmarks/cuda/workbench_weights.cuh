// Packed GPU weights for the workbenches that time kernels reading them (bench_gemv,
// bench_dequantize, bench_mixed_gemm): random ones uploaded, and copies to rotate over, whose
// bytes together pass 4x the L2 cache so that the timing is one of HBM, not of L2; and the
// prefill's matrix shapes and dequantization slice.
#pragma once

#include <cuda_runtime.h>

#include <errno.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "core/dtype.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_random_weights.h"
#include "workbench_timing.cuh"

namespace eaq::workbench {

// A random packed weight (gemv_random_weights.h) in its host bytes and uploaded in dtype's
// default GPU layout; an upload error ends the program with its message (exit 1).
struct RandomWeight {
  std::vector<std::uint8_t> host;
  std::size_t host_stride = 0;  // bytes a host row
  kernels::cuda::GpuWeight gpu;
};
inline RandomWeight upload_random_weight(DType dtype, std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  RandomWeight w;
  w.host_stride = row_bytes(dtype, static_cast<std::size_t>(cols));
  w.host = kernels::cuda::random_packed_weight(dtype, rows, cols, w.host_stride, seed);
  try {
    w.gpu = kernels::cuda::upload_weight(kernels::WeightRef{dtype, rows, cols, w.host.data(), w.host_stride}, nullptr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, e.what());
    std::exit(1);
  }
  return w;
}

// A device copy of w's buffers (free it with free_weight).
inline kernels::cuda::GpuWeight clone_weight(const kernels::cuda::GpuWeight& w) {
  kernels::cuda::GpuWeight c = w;
  const std::size_t code_bytes = w.code_row_bytes * static_cast<std::size_t>(w.rows);
  check(cudaMalloc(&c.codes, code_bytes), "cudaMalloc weight copy");
  check(cudaMemcpy(c.codes, w.codes, code_bytes, cudaMemcpyDeviceToDevice), "weight copy");
  if (w.scales != nullptr) {
    const std::size_t scale_bytes = w.device_bytes - code_bytes;
    check(cudaMalloc(&c.scales, scale_bytes), "cudaMalloc weight copy's scales");
    check(cudaMemcpy(c.scales, w.scales, scale_bytes, cudaMemcpyDeviceToDevice), "weight copy's scales");
  }
  return c;
}

// w itself, then copies of it until there are at least 2 and their bytes pass 4 x l2_bytes.
inline std::vector<kernels::cuda::GpuWeight> weight_copies(const kernels::cuda::GpuWeight& w, std::size_t l2_bytes) {
  std::vector<kernels::cuda::GpuWeight> copies = {w};
  while (copies.size() < 2 || copies.size() * w.device_bytes < 4 * l2_bytes) copies.push_back(clone_weight(w));
  return copies;
}

// The engine's prefill dequantizes packed weights in slices of at most this many f16 values
// (64 MiB, EAQ_CUDA_DEQUANT_SLICE_MIB's default; cuda_decoder_lm_cuda.cpp).
inline constexpr std::int64_t kEngineSliceHalves = std::int64_t{64} << 19;
// The engine's row stride of a dequantized slice (cuda_decoder_lm_forward_cuda.cpp), and its rows a slice.
inline std::int64_t engine_slice_stride(std::int64_t cols) { return (cols + 7) / 8 * 8; }
inline std::int64_t engine_slice_rows(std::int64_t cols) {
  return std::max<std::int64_t>(1, kEngineSliceHalves / engine_slice_stride(cols));
}

// A weight matrix of a model's prefill (rows x cols) and what it is.
struct MatrixShape {
  const char* what;
  std::int64_t rows, cols;
};
// The four prefill GEMM operands of a layer: Llama-2-7B's, or DeepSeek-Coder-1.3B's (quick).
inline std::vector<MatrixShape> prefill_matrix_shapes(bool quick) {
  if (quick) {
    return {{"1.3B q|k|v 6144x2048", 6144, 2048}, {"1.3B o 2048x2048", 2048, 2048},
            {"1.3B gate|up 11008x2048", 11008, 2048}, {"1.3B down 2048x5504", 2048, 5504}};
  }
  return {{"7B q|k|v 12288x4096", 12288, 4096}, {"7B o 4096x4096", 4096, 4096},
          {"7B gate|up 22016x4096", 22016, 4096}, {"7B down 4096x11008", 4096, 11008}};
}

}  // namespace eaq::workbench
