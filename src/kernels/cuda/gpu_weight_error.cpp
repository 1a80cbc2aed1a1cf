// throw_error (kernels/cuda/gpu_weight.h): the one place the GEMV's .cu files reach eaq::Error,
// compiled by the host compiler because nvcc cannot compile fmt (included by core/error.h).
#include "core/error.h"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

void throw_error(const std::string& message) { throw Error(message); }

}  // namespace eaq::kernels::cuda
