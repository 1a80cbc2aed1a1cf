// pdl_enabled() (kernels/cuda/pdl.cuh): whether the current device takes programmatic dependent
// launches.
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

bool pdl_enabled() {
  static const bool turned_off = [] {
    const char* v = std::getenv("EAQ_CUDA_PDL");
    return v != nullptr && std::strcmp(v, "0") == 0;
  }();
  return !turned_off && compute_capability_major() >= 9;
}

}  // namespace eaq::kernels::cuda
