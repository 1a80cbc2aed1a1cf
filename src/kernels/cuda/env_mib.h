// A size in MiB read from an environment variable, for the CUDA backend's opt-in buffers
// (EAQ_CUDA_DEQUANT_SLICE_MIB, EAQ_CUDA_CUBLAS_WORKSPACE_MIB).
#pragma once

#include <cstdint>
#include <optional>

namespace eaq::kernels::cuda {

// The whole number of MiB (1 to max_mib) the variable `name` holds; nullopt when it is unset.
// Anything else is an eaq::Error naming the variable, its value, the range and what leaving it
// unset does (`when_unset`, e.g. "the default, 64").
std::optional<std::int64_t> env_mib(const char* name, std::int64_t max_mib, const char* when_unset);

}  // namespace eaq::kernels::cuda
