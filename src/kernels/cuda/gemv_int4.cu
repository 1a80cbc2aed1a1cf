// Instances of the decode GEMV kernel (gemv_kernel.cuh) for: FmtI4S<32> FmtI4S<64> FmtI4S<128>.
#include "kernels/cuda/gemv_kernel.cuh"

namespace eaq::kernels::cuda::detail {

template void launch_gemv<FmtI4S<32>>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtI4S<64>>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv<FmtI4S<128>>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
