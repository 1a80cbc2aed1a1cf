// The three prefill attention kernels attention_prefill dispatches between, callable directly for
// tests and benchmarks. Same arguments as attention_prefill.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/decoder_ops.h"

namespace eaq::kernels::cuda {

// Tensor cores (attention_prefill_tc.cu); returns false, launching nothing, when the device's
// shared memory cannot hold even one warp's tiles for this head size.
bool attention_prefill_tc(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                          int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream);

// f16 products, FlashAttention-2 style (attention_prefill_f16.cu), for head_dim 64 and 128; returns
// false, launching nothing, for other head sizes. key_groups: 1, 2 (two groups of warps a block,
// each taking every other key tile; one stage only), 0 = EAQ_CUDA_PREFILL_ATTENTION_GROUPS if set,
// else 2 where the grid's blocks fit one an SM, else 1. stages: 1 (K/V tiles through registers),
// 2 (the next tile by cp.async into a second buffer during this one's products), 0 =
// EAQ_CUDA_PREFILL_ATTENTION_STAGES if set, else 2 with one key group and 1 with two.
bool attention_prefill_f16(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                           int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream,
                           int stages = 0, int key_groups = 0);

// A warp per query on the CUDA cores (attention_prefill.cu): the fallback and A/B baseline.
void attention_prefill_warp(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                            int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream);

}  // namespace eaq::kernels::cuda
