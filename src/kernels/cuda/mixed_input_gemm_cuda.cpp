// The mixed-input prefill GEMM's device side (mixed_input_gemm.h): upload, launch and errors. The
// CUTLASS kernels themselves are in mixed_input_gemm_sm90.cu, built only where CUTLASS's headers
// were found (EAQ_HAVE_CUTLASS_SM90); without them the GEMM is unavailable and the prefill
// dequantizes.
#include "kernels/cuda/mixed_input_gemm.h"

#include <cuda_runtime.h>

#include <string>

#include "core/error.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_gemv.h"
#if EAQ_HAVE_CUTLASS_SM90
#include "kernels/cuda/mixed_input_gemm_sm90.h"
#endif

namespace eaq::kernels::cuda {
namespace {

[[noreturn]] void fail_cuda(const char* what, cudaError_t e) {
  throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

#if EAQ_HAVE_CUTLASS_SM90
sm90::MixedCodes codes_of(DType dtype) { return dtype == DType::I8_CH ? sm90::MixedCodes::int8 : sm90::MixedCodes::int4; }
#endif

}  // namespace

bool mixed_gemm_available() {
#if EAQ_HAVE_CUTLASS_SM90
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) return false;
  return major == 9 && minor == 0;
#else
  return false;
#endif
}

MixedGemmWeight upload_mixed_gemm_weight(const WeightRef& host) {
  if (!mixed_gemm_available()) {
    throw Error("the mixed-input prefill GEMM is not available here: it needs a build with CUTLASS's headers "
                "(scripts/fetch_cutlass.sh) for sm_90a and a compute capability 9.0 GPU");
  }
  const MixedGemmHostWeight packed = pack_for_mixed_gemm(host);
  MixedGemmWeight w;
  w.dtype = packed.dtype;
  w.rows = packed.rows;
  w.cols = packed.cols;
  w.group = packed.group;
#if EAQ_HAVE_CUTLASS_SM90
  const sm90::MixedCodes codes = codes_of(w.dtype);
  const std::size_t code_bytes = sm90::mixed_code_bytes(codes, w.rows, w.cols);
  w.codes = device_alloc(code_bytes, "the mixed-input GEMM's weight codes");
  void* staging = nullptr;
  try {
    w.scales = device_alloc(packed.scales.size(), "the mixed-input GEMM's weight scales");
    staging = device_alloc(packed.codes.size(), "the mixed-input GEMM's row-major codes (upload staging)");
    if (const cudaError_t e = cudaMemcpy(staging, packed.codes.data(), packed.codes.size(), cudaMemcpyHostToDevice);
        e != cudaSuccess) {
      fail_cuda("uploading the mixed-input GEMM's codes", e);
    }
    if (const cudaError_t e = cudaMemcpy(w.scales, packed.scales.data(), packed.scales.size(), cudaMemcpyHostToDevice);
        e != cudaSuccess) {
      fail_cuda("uploading the mixed-input GEMM's scales", e);
    }
    if (const std::string m = sm90::mixed_reorder_codes(codes, staging, w.codes, w.rows, w.cols); !m.empty()) {
      throw Error(m);
    }
    device_free(staging);
    staging = nullptr;
    // Early word of a kernel that would want a workspace (none of the configuration built here
    // does); mixed_gemm checks again at each call's own token count.
    if (const std::size_t ws = sm90::mixed_gemm_workspace_bytes(codes, w.rows, w.cols, 512); ws != 0) {
      throw Error("the mixed-input GEMM asks for a " + std::to_string(ws) +
                  "-byte workspace, which this build does not provide");
    }
  } catch (...) {
    device_free(staging);
    free_mixed_gemm_weight(w);
    throw;
  }
  w.device_bytes = code_bytes + packed.scales.size();
#endif
  return w;
}

void free_mixed_gemm_weight(MixedGemmWeight& w) {
  device_free(w.codes);
  device_free(w.scales);
  w = MixedGemmWeight{};
}

void mixed_gemm(const MixedGemmWeight& w, const void* x_f16, std::int64_t n_tokens, float* y, std::int64_t y_stride,
                bool accumulate, cudaStream_t stream) {
  if (w.codes == nullptr) throw Error("mixed_gemm: the weight is not uploaded");
  if (reinterpret_cast<std::uintptr_t>(y) % 16 != 0 || y_stride % 4 != 0 || y_stride < w.rows) {
    throw Error("mixed_gemm: y must be 16-byte aligned with a row stride (" + std::to_string(y_stride) +
                " floats) that is a multiple of 4 and at least the weight's " + std::to_string(w.rows) + " rows");
  }
  if (reinterpret_cast<std::uintptr_t>(x_f16) % 16 != 0) throw Error("mixed_gemm: x must be 16-byte aligned");
  if (accumulate && w.dtype == DType::I8_CH) {
    throw Error("mixed_gemm: an i8_ch weight cannot add into y (its row scale goes on the GEMM's output after it)");
  }
#if EAQ_HAVE_CUTLASS_SM90
  if (const std::string m = sm90::mixed_gemm(codes_of(w.dtype), w.codes, w.scales, w.group, w.rows, w.cols, x_f16,
                                             n_tokens, y, y_stride, accumulate, nullptr, 0, stream);
      !m.empty()) {
    throw Error(m);
  }
  if (w.dtype == DType::I8_CH) scale_columns(y, y_stride, n_tokens, static_cast<const float*>(w.scales), w.rows, stream);
#else
  (void)n_tokens;
  (void)accumulate;
  (void)stream;
  throw Error("mixed_gemm: this build has no mixed-input GEMM (CUTLASS's headers were not found)");
#endif
}

}  // namespace eaq::kernels::cuda
