// The CPU implementations behind kernels/ops.h. Arguments are already validated by the
// dispatching definitions in kernels/ops.cpp; these functions only compute.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace eaq::kernels::cpu {

bool has_fast_path(Op op, DType dtype);
const char* simd_target_name();

void matmul(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w, const float* bias,
            float* y);
// KernelContext::quantize_block_activations: ggml's reference W·A8 path for Q8_0, Q4_0, Q4_1.
bool has_block_activation_kernel(DType dtype);
void matmul_block_activations(ThreadPool& pool, const float* x, std::int64_t m, const WeightRef& w,
                              const float* bias, float* y);
void embedding_lookup(ThreadPool& pool, const WeightRef& table, const std::int32_t* ids,
                      std::int64_t n_ids, float* out);
void rms_norm(ThreadPool& pool, const float* x, const float* weight, float weight_offset, float eps,
              std::int64_t rows, std::int64_t dim, float* y);
void rope(ThreadPool& pool, float* x, std::int64_t n_tokens, std::int64_t n_heads,
          std::int64_t head_dim, const std::int32_t* positions, const float* inv_freq,
          RopeLayout layout, float attention_factor);
void swiglu(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n);
void geglu_tanh(ThreadPool& pool, const float* gate, const float* up, float* out, std::int64_t n);
void add(ThreadPool& pool, const float* a, const float* b, float* y, std::int64_t n);
void scale(ThreadPool& pool, float* x, float s, std::int64_t n);
void softmax(ThreadPool& pool, float* x, std::int64_t rows, std::int64_t n);
double log_sum_exp(const float* x, std::int64_t n);
std::int32_t sample_token(const float* logits, std::int64_t vocab, const TokenSampling& sampling,
                          const std::int32_t* penalized, std::int64_t n_penalized, double uniform,
                          std::vector<std::pair<float, std::int32_t>>& candidates);
void kv_store(ThreadPool& pool, const KvRef& cache, std::int64_t first_position,
              std::int64_t n_tokens, const float* k, const float* v);
void attention(ThreadPool& pool, const AttentionParams& params, const float* q,
               std::int64_t n_tokens, const std::int32_t* q_positions, const KvRef& cache,
               float* out);

}  // namespace eaq::kernels::cpu
