// Instances of the decode GEMV kernel (gemv_kernel.cuh) for: FmtF16 FmtBF16.
#include "kernels/cuda/gemv_kernel.cuh"

namespace eaq::kernels::cuda::detail {

template void launch_gemv<FmtF16>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtBF16>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
