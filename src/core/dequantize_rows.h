// dequantize_rows: whole tensors to f32. Formats with a row header (per-channel scales, see
// core/dtype.h row_header_bytes) decode one row per dequantize() call, so a tensor of several
// rows must go through this, not through one dequantize() of all its elements.
#pragma once

#include <cstddef>

#include "core/dtype.h"

namespace eaq {

// Dequantizes `rows` rows of `row_length` elements each, stored back to back row_bytes apart.
void dequantize_rows(DType dtype, const void* src, float* dst, std::size_t rows, std::size_t row_length);

}  // namespace eaq
