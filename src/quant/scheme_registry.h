// The precision schemes eaq compares: for each, the dtype its linear layers get, the dtype its
// embedding / lm_head get (8-bit for the 4-bit schemes), and its stated error bound. Plus one
// entry point that quantizes a row of floats into any dtype eaq can produce.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace eaq::quant {

struct Scheme {
  std::string_view name;         // as given to --precision / --scheme: "int4-g32", "q8_0", ...
  DType matrix_dtype;            // linear layers
  DType embedding_dtype;         // token_embd.weight and output.weight
  std::string_view error_bound;  // per-weight bound, as text (quantization_error_bound computes it)
  std::string_view kernel;       // how the CPU computes with it
};

// Every scheme, in the order tables print them. "native" (keep the file's own formats) and
// "auto" are not schemes but engine choices; see runtime::EngineConfig.
const std::vector<Scheme>& schemes();
const Scheme* find_scheme(std::string_view name);
std::string scheme_names();  // comma-separated, for error messages

bool can_quantize_to(DType dtype);
// Quantizes n floats (one row) into `dtype` at dst (row_bytes(dtype, n) bytes). Throws
// eaq::Error for a dtype eaq cannot produce, a row length that is not a multiple of its block
// size, or a NaN / infinite value.
void quantize_row(DType dtype, const float* src, void* dst, std::size_t n);

// The stated worst-case |w[i] - dequantize(quantize(w))[i]| of element i of the row w[0..n) for
// `dtype`, from the statistics its quantizer uses (row or group absmax / range).
double quantization_error_bound(DType dtype, const float* row, std::size_t n, std::size_t i);

// The dtype a row of `cols` weights gets under `wanted` when cols is not a multiple of its
// block size: the same family with a smaller group (int4-g128 → g64 → g32), else nullopt.
std::optional<DType> fit_block_size(DType wanted, std::int64_t cols);

}  // namespace eaq::quant
