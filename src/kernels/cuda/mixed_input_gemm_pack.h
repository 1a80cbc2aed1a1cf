// The host side of the mixed-input prefill GEMM (mixed_input_gemm.h): which weights it takes and
// their repacking into its host form. No CUDA here, so CPU builds and tests have it too.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "kernels/ops.h"

namespace eaq::kernels::cuda {

// Whether the GEMM takes weights of this dtype and shape (it may still be unavailable here:
// mixed_gemm_available).
bool mixed_gemm_takes(DType dtype, std::int64_t rows, std::int64_t cols);

// A weight in the GEMM's host form, before the reordering (done on the GPU at upload).
struct MixedGemmHostWeight {
  DType dtype = DType::F32;
  std::int64_t rows = 0, cols = 0;
  int group = 0;                     // int4: weights a scale; int8: cols (one scale a row)
  std::vector<std::uint8_t> codes;   // row-major [rows][cols]: int4 two's complement (q - 8), two a
                                     // byte, the lower column in the low nibble; int8 as stored
  std::vector<std::uint8_t> scales;  // int4: f16 [cols / group][rows]; int8: f32 [rows]
};
// Repacks a host weight (its eaq blocks) into that form without changing a value. Throws
// eaq::Error for a dtype or shape mixed_gemm_takes refuses.
MixedGemmHostWeight pack_for_mixed_gemm(const WeightRef& host);

}  // namespace eaq::kernels::cuda
