// The prefill GEMM on packed int4 / int8 weights without a dequantized copy: the codes go to the
// tensor cores through CUTLASS's Hopper mixed-input GEMM (mixed_input_gemm_sm90.cu), converted to
// f16 in registers. The dequantizing prefill (dequantize_rows_f16, then cuBLAS) writes every
// weight as f16 and reads it back once a prefill: 39% of the Llama-2-7B int4-g128 prefill-512 on
// an H100 (2026-12-07, docs/cuda.md).
//
// Which weights: i4s_g64 and i4s_g128 (value = (q - 8) * d, d f16 a group: the GEMM forms
// f16(code * d), the value the dequantizing prefill writes) and i8_ch (codes converted alone, the
// row scale on the f32 output, as that prefill does). Groups of 32 (i4s_g32, q4_0) are smaller
// than the GEMM's 64-wide K tile, which CUTLASS's group scales need; other formats dequantize.
// Shapes: rows and cols (K) multiples of 128. On an H100 (2026-12-07, docs/cuda.md) every
// projection of the 7B and 1.3B shapes gave the dequantizing path's output bit for bit (max |Δ| 0:
// the same f16 products, neither GEMM splitting K), and so did y += and the engine's whole
// prefill; but with 128 or 256 rows, K = 128, 384, 640 and 896 gave infinite outputs (groups of
// 64 and 128; the test's sweep), K = 256, 512, 768 and 1024 exact. The cause, found afterwards by
// reading the code: the upload's reordering copy (mixed_input_gemm_sm90.cu, after CUTLASS's
// reorder_tensor) covered 256 int4 codes of a row a step without a bounds check, so at those K it
// wrote past the reordered codes' buffer, onto the scales uploaded just before (the 1.3B's
// 2048 x 5504 down came out exact, its overrun landing in unused memory). The copy now steps over
// 128 codes and refuses any other K (H100, 2026-12-08: the sweep exact at every multiple of 128).
// Rows multiples of 128: the one case with a partial row tile (144 rows) also had K = 192, which
// the copy overran at, and none has run since the mend.
//
// Its own copy of the weight: the GEMM reads the codes K-major in CUTLASS's reordered layout, the
// decode GEMV its own tiles, so a weight uploaded for both takes its code bytes twice.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/mixed_input_gemm_pack.h"
#include "kernels/ops.h"

namespace eaq::kernels::cuda {

// Whether this build has the GEMM (CUTLASS's headers found, sm_90a compiled) and the current
// device runs it (compute capability 9.0).
bool mixed_gemm_available();

// A weight on the GPU in the GEMM's layout. Owns its device memory (free_mixed_gemm_weight).
struct MixedGemmWeight {
  DType dtype = DType::F32;
  std::int64_t rows = 0, cols = 0;
  int group = 0;
  void* codes = nullptr;   // reordered
  void* scales = nullptr;  // as in MixedGemmHostWeight
  std::size_t device_bytes = 0;
};
// Uploads (synchronously) a host weight. Throws eaq::Error where the GEMM is unavailable or does
// not take the weight, or when the memory cannot be allocated (the bytes asked and free).
MixedGemmWeight upload_mixed_gemm_weight(const WeightRef& host);
void free_mixed_gemm_weight(MixedGemmWeight& w);

// y[t][r] = sum_k W[r][k] * x[t][k] for t < n_tokens (accumulate: y +=, CUTLASS's beta = 1; int4
// only, as int8's row scale goes on the output after the GEMM), x f16 [n_tokens][w.cols], y f32 with rows
// y_stride floats apart (y 16-byte aligned, y_stride a multiple of 4: the epilogue stores by TMA).
// Asynchronous on stream, no allocation, no host sync: graph-capturable. Throws eaq::Error for a
// layout it cannot take or a failed launch.
void mixed_gemm(const MixedGemmWeight& w, const void* x_f16, std::int64_t n_tokens, float* y, std::int64_t y_stride,
                bool accumulate, cudaStream_t stream);

}  // namespace eaq::kernels::cuda
