// Instances of the decode GEMV kernel (gemv_kernel.cuh) for: FmtI8Row FmtF8Row FmtQ8_0, and of the
// experimental row-split kernel (gemv_rowsplit.cuh) for FmtI8Row FmtF8Row.
#include "kernels/cuda/gemv_kernel.cuh"
#include "kernels/cuda/gemv_rowsplit.cuh"

namespace eaq::kernels::cuda::detail {

template void launch_gemv<FmtI8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtF8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtQ8_0>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv_rowsplit<FmtI8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv_rowsplit<FmtF8Row>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
