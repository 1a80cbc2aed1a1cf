// The launcher of the decode GEMV kernel per GPU weight format. Declared here for the dispatcher
// (gemv.cu); defined in gemv_kernel.cuh and instantiated once per format in gemv_<format>.cu, so the
// heavy template instances compile in parallel.
#pragma once

#include <cuda_runtime.h>

#include "kernels/cuda/gemv_formats.cuh"

namespace eaq::kernels::cuda::detail {

// Launches format F's kernel for `batch` activation rows (1..8, checked by the caller). No sync.
template <class F>
void launch_gemv(const GemvArgs& a, int batch, cudaStream_t stream);

}  // namespace eaq::kernels::cuda::detail
