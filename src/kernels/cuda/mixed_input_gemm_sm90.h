// The CUTLASS side of the mixed-input prefill GEMM (mixed_input_gemm.h): functions compiled in
// mixed_input_gemm_sm90.cu, for sm_90a only and only where CUTLASS's headers were found
// (EAQ_HAVE_CUTLASS_SM90). They return an empty string on success and a message otherwise, and
// never throw: that file includes no eaq header that could (mixed_input_gemm_cuda.cpp turns the
// messages into eaq::Error).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace eaq::kernels::cuda::sm90 {

// The narrow operand's element: two's complement int4 (two a byte, the lower k in the low nibble)
// or int8.
enum class MixedCodes { int4, int8 };

// Device bytes of a reordered code matrix of rows x cols elements.
std::size_t mixed_code_bytes(MixedCodes codes, std::int64_t rows, std::int64_t cols);

// Copies a row-major [rows][cols] code matrix (device) into the GEMM's reordered layout (device,
// mixed_code_bytes), the order in which its threads read their values (CUTLASS's
// compute_memory_reordering_atom; int4 also in the [0,2,4,6,1,3,5,7] value order its converter
// takes). Synchronous.
std::string mixed_reorder_codes(MixedCodes codes, const void* row_major, void* reordered, std::int64_t rows,
                                std::int64_t cols);

// y[t][r] = sum_k W[r][k] * x[t][k] (accumulate: y +=, beta = 1) for t < n_tokens, r < rows, with W the
// reordered codes (int4: times scales[k / group][r], f16, rounded to f16 as the product is formed;
// int8: the codes alone), x f16 [n_tokens][cols] (row stride cols), y f32 with rows y_stride
// apart; f32 accumulation on the tensor cores (wgmma). workspace: at least
// mixed_gemm_workspace_bytes(). Asynchronous on stream, no allocation: graph-capturable.
std::string mixed_gemm(MixedCodes codes, const void* reordered, const void* scales, int group,
                       std::int64_t rows, std::int64_t cols, const void* x, std::int64_t n_tokens, float* y,
                       std::int64_t y_stride, bool accumulate, void* workspace, std::size_t workspace_bytes,
                       cudaStream_t stream);

// The workspace mixed_gemm asks for at these sizes (0 for the kernels built here, checked).
std::size_t mixed_gemm_workspace_bytes(MixedCodes codes, std::int64_t rows, std::int64_t cols,
                                       std::int64_t n_tokens);

}  // namespace eaq::kernels::cuda::sm90
