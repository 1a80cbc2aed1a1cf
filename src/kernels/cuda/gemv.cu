// gemv(): picks the kernel instance for a GpuWeight's layout, dtype and batch (the CUDA-core
// kernels in gemv_kernel.cuh, instantiated in gemv_<format>.cu; the tensor-core ones in
// gemv_mma.cuh, instantiated in gemv_mma.cu). Host-side checks only; no allocation, no sync.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_launch.cuh"
#include "kernels/cuda/gemv_mma.cuh"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

bool gemv_supports_gate(const GpuWeight& w, int batch) {
  using namespace detail;
  if (w.rows % 2 != 0) return false;
  if (w.layout == GemvLayout::chunks) return true;
  bool runs = false;
  visit_mma_format(w.dtype, [&](auto format) {
    constexpr int kTileCols = decltype(format)::kTileCols;
    runs = gemv_mma_cluster_runs(w.rows, w.cols_padded / kTileCols, kTileCols, batch, w.rows / 2);
  });
  return runs;
}

void gemv(const GpuWeight& w, const float* x, int batch, float* y, cudaStream_t stream) {
  gemv(w, x, batch, y, stream, GemvEpilogue{});
}

void gemv(const GpuWeight& w, const float* x, int batch, float* y, cudaStream_t stream, const GemvEpilogue& epilogue) {
  using namespace detail;
  if (batch < 1 || batch > kMaxGemvBatch) {
    fail_streamed("gemv on a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "]: batch ", batch,
                  " is outside 1..", kMaxGemvBatch, "; split the batch into calls of at most ", kMaxGemvBatch);
  }
  if (w.codes == nullptr) {
    fail_streamed("gemv: the ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols,
                  "] is not on the GPU (upload_weight first)");
  }
  if (reinterpret_cast<std::uintptr_t>(x) % 16 != 0) {
    fail_streamed("gemv on a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "]: the activations x must ",
                  "be 16-byte aligned (the kernel reads them as float4); cudaMalloc'd buffers are");
  }
  GemvArgs a = make_gemv_args(w.codes, w.code_row_bytes, w.scales, w.scale_row_bytes, w.rows, w.cols,
                              w.cols_padded, gemv_chunk_elems(w.dtype), x, y);
  a.bias = epilogue.bias;
  a.accumulate = epilogue.accumulate ? 1 : 0;
  if (epilogue.gate != Gate::kNone) {
    if (!gemv_supports_gate(w, batch) || epilogue.bias != nullptr || epilogue.accumulate) {
      fail_streamed("gemv on a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "] at batch ", batch,
                    ": the gated epilogue takes an even row count (gate | up), no bias or accumulation, and the ",
                    "chunk layout or the tensor-core tiles with gate rows a multiple of 16 at batch 1-4 on sm_90 ",
                    "(gemv_supports_gate says which)");
    }
    a.gate_rows = w.rows / 2;
    a.gelu_tanh = epilogue.gate == Gate::kGeluTanh ? 1 : 0;
  }
  if (w.layout == GemvLayout::mma_tiles) {
    const bool tiled = visit_mma_format(w.dtype, [&](auto format) {
      a.n_super = w.cols_padded / decltype(format)::kTileCols;  // column tiles a row tile
      launch_gemv_mma<decltype(format)>(a, batch, stream);
    });
    if (!tiled) fail_streamed("gemv: internal error: a ", dtype_name(w.dtype), " weight in the tensor-core layout");
    return;
  }
  const bool known = visit_gemv_format(w.dtype, [&](auto format) {
    launch_gemv<decltype(format)>(a, batch, stream);
  });
  if (!known) {
    fail_streamed("gemv: no CUDA kernel for ", dtype_name(w.dtype), " weights (gemv_supports() says which dtypes ",
                  "have one)");
  }
}

}  // namespace eaq::kernels::cuda
