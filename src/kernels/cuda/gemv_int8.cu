// Instances of the decode GEMV kernel (gemv_kernel.cuh) for: FmtI8Row FmtF8Row FmtQ8_0.
#include "kernels/cuda/gemv_kernel.cuh"

namespace eaq::kernels::cuda::detail {

template void launch_gemv<FmtI8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtF8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtQ8_0>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
