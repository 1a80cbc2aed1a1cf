// Instances of the decode GEMV kernel (gemv_kernel.cuh) for: FmtNf4 FmtQ4K.
#include "kernels/cuda/gemv_kernel.cuh"

namespace eaq::kernels::cuda::detail {

template void launch_gemv<FmtNf4>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtQ4K>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
