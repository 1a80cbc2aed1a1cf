// gemv(): picks the kernel instance for a GpuWeight's dtype and batch (kernels in gemv_kernel.cuh,
// instantiated in gemv_<format>.cu). Host-side checks only; no allocation, no sync.
#include <cuda_runtime.h>

#include "core/eaq_quant_blocks.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_launch.cuh"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

void gemv(const GpuWeight& w, const float* x, int batch, float* y, cudaStream_t stream) {
  using namespace detail;
  if (batch < 1 || batch > kMaxGemvBatch) {
    fail_streamed("gemv on a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "]: batch ", batch, " is outside 1..", kMaxGemvBatch, "; split the batch into calls of at most ", kMaxGemvBatch);
  }
  if (w.codes == nullptr) fail_streamed("gemv: the ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "] is not on the GPU (upload_weight first)");
  GemvArgs a{};
  a.codes = static_cast<const std::uint8_t*>(w.codes);
  a.code_row_bytes = w.code_row_bytes;
  a.scales = static_cast<const std::uint8_t*>(w.scales);
  a.scale_row_bytes = w.scale_row_bytes;
  a.rows = w.rows;
  a.cols = w.cols;
  a.n_super = w.cols_padded / (32 * gemv_chunk_elems(w.dtype));
  a.x = x;
  a.y = y;
  for (int i = 0; i < 16; ++i) a.lut[i] = kNf4Codebook[i];
  switch (w.dtype) {
    case DType::F16: launch_gemv<FmtF16>(a, batch, stream); break;
    case DType::BF16: launch_gemv<FmtBF16>(a, batch, stream); break;
    case DType::I8_CH: launch_gemv<FmtI8Row>(a, batch, stream); break;
    case DType::F8_E4M3_CH: launch_gemv<FmtF8Row>(a, batch, stream); break;
    case DType::Q8_0: launch_gemv<FmtQ8_0>(a, batch, stream); break;
    case DType::Q4_0:
    case DType::I4S_G32: launch_gemv<FmtI4S<32>>(a, batch, stream); break;
    case DType::I4S_G64: launch_gemv<FmtI4S<64>>(a, batch, stream); break;
    case DType::I4S_G128: launch_gemv<FmtI4S<128>>(a, batch, stream); break;
    case DType::NF4: launch_gemv<FmtNf4>(a, batch, stream); break;
    case DType::Q4_K: launch_gemv<FmtQ4K>(a, batch, stream); break;
    default:
      fail_streamed("gemv: no CUDA kernel for ", dtype_name(w.dtype), " weights (gemv_supports() says which dtypes have one)");
  }
}

}  // namespace eaq::kernels::cuda
