// The ceilings bench_engine_cuda reads its figures against, measured in the same process and on
// the same GPU: a device-to-device copy (HBM bandwidth), a cuBLAS f16 GEMM (the tensor-core peak,
// by cublasGemmEx's pick or the engine's tuned cuBLASLt pick), and a bound on a shape's prefill
// (cuBLAS alone on its projection GEMMs).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "model_shapes.h"

namespace eaq::bench {

// Seconds between two recorded events.
double elapsed_s(cudaEvent_t a, cudaEvent_t b);

// Device-to-device copy of 2 GiB, counting bytes read + written (the HBM roofline users reach), GB/s.
double measure_copy_bandwidth_gbs();

// Seconds of one cuBLAS f16 GEMM (f32 accumulate) of m x k by k x n (mean of 20): by the engine's
// prefill GEMM (kernels/cuda/half_gemm.h: cuBLASLt, the algorithm tuned for the shape) when
// `engine_gemm`, else by cublasGemmEx's own pick (kernels/cuda/cublas_gemm.h).
double measure_gemm_s(std::int64_t m, std::int64_t n, std::int64_t k, bool engine_gemm);

// The same GEMM's rate, TFLOP/s.
double measure_gemm_tflops(std::int64_t m, std::int64_t n, std::int64_t k, bool engine_gemm);

// A bound on a shape's prefill: seconds of cuBLAS alone on the prompt's projection GEMMs (q|k|v,
// o, gate|up, down for every layer, as the engine's f16 prefill calls them, tuned), nothing else: no
// attention, norms, RoPE or LM head. Each GEMM is timed on its own, repeated, so a weight matrix
// that fits L2 is read from there: if anything, an optimistic bound.
double measure_projection_gemms_s(const Shape& s, std::int64_t prompt);

}  // namespace eaq::bench
