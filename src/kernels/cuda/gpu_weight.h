// Facts about the GPU weight layouts that gpu_weight.cu writes and the GEMV dispatcher (gemv.cu)
// reads (the layouts themselves are described in gemv_formats.cuh), and the error helper of both.
#pragma once

#include <sstream>

#include "core/dtype.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/ops.h"
#include <string>

namespace eaq::kernels::cuda {

// Weights per 16-byte code chunk of dtype's GPU layout (8 for 16-bit, 16 for 8-bit, 32 for 4-bit
// codes); 0 when the decode GEMV does not take the dtype. A row is padded to 32 chunks' worth.
int gemv_chunk_elems(DType dtype);

// A weight in the GPU layout, in host memory: what upload_weight copies to the device.
struct PackedGpuWeight {
  DType dtype = DType::F16;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t cols_padded = 0;
  std::vector<std::uint8_t> codes;   // rows * code_row_bytes (mma_tiles: rows rounded up to 16)
  std::vector<std::uint8_t> scales;  // rows * scale_row_bytes, or rows * 4 (f32) for per-row scales
  std::size_t code_row_bytes = 0;
  std::size_t scale_row_bytes = 0;
  GemvLayout layout = GemvLayout::chunks;  // mma_tiles: codes and scales cover rows rounded up to 16
};
// Repacks a host weight into a GPU layout (default_gemv_layout(dtype) unless given). Throws
// eaq::Error as upload_weight does.
PackedGpuWeight pack_for_gpu(const WeightRef& host);
PackedGpuWeight pack_for_gpu(const WeightRef& host, GemvLayout layout);

// Throws eaq::Error(message). Defined in gpu_weight_error.cpp: nvcc 13 (C++20) cannot compile
// fmt's constexpr and consteval code, so no .cu file includes core/error.h (which includes fmt).
[[noreturn]] void throw_error(const std::string& message);

// Throws eaq::Error with the pieces streamed one after another.
template <class... Args>
[[noreturn]] void fail_streamed(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  throw_error(s.str());
}

}  // namespace eaq::kernels::cuda
