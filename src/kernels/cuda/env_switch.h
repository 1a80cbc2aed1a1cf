// An on/off switch read from an environment variable, for the CUDA backend's A/B settings
// (EAQ_CUDA_PREFILL_GRAPH, EAQ_CUDA_GEMM_TUNE, ...).
#pragma once

namespace eaq::kernels::cuda {

// "1" → true, "0" → false, unset or empty → when_unset. Anything else is an eaq::Error naming the
// variable, its value and the default (`default_text`, e.g. "1: the prefill as a CUDA graph").
bool env_switch(const char* name, bool when_unset, const char* default_text);

}  // namespace eaq::kernels::cuda
