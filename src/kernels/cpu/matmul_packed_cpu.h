// The packed-weight matmul of kernels/cpu/matmul_packed_cpu.cpp (GGUF blocks and eaq's own
// formats computed on their bytes) and int8-dyn's of matmul_int8_dynamic_cpu.cpp;
// kernels/cpu/matmul_cpu.cpp routes those dtypes here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace eaq::kernels::cpu {

bool has_packed_kernel(DType dtype);
// Shapes are validated by kernels/ops.cpp; the dtype must satisfy has_packed_kernel.
void matmul_packed(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                   float* y);
// int8-dyn (i8_ch_dyn), in kernels/cpu/matmul_int8_dynamic_cpu.cpp; matmul_packed calls it.
void matmul_int8_dynamic(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
                         float* y);
// int8-dyn's activation quantization of one token: scale = absmax / 127, q = round(x / scale)
// (to nearest even), exposed so tests can build the exact reference.
void quantize_activations_int8(const float* x, std::size_t k, std::int8_t* q, float* scale);

}  // namespace eaq::kernels::cpu
