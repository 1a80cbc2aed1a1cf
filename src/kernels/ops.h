// The op interfaces the model forward passes are written against. Ops know nothing of the model
// graph: plain pointers, sizes and a KernelContext. Activations are f32, row-major. Weights are
// WeightRefs in their stored dtype (f32/f16/bf16 natively; other dtypes through the backend's
// kernels for that format — see supports()). Each op has a dispatching definition in
// kernels/ops.cpp and a CPU implementation in kernels/cpu/ (a CUDA one in kernels/cuda/ later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/token_sampling.h"

namespace eaq::kernels {

// A weight matrix W[rows][cols] (rows = output features, cols = input features), row-major,
// in its stored dtype. Row r starts at data + r * row_stride_bytes.
struct WeightRef {
  DType dtype = DType::F32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const void* data = nullptr;
  std::size_t row_stride_bytes = 0;
};
WeightRef make_weight_ref(DType dtype, std::int64_t rows, std::int64_t cols, const void* data);

struct KernelContext {
  ThreadPool* pool = nullptr;  // required on CPU
  // ggml's reference numerics for Q8_0 / Q4_0 / Q4_1 weights: matmul quantizes each activation
  // row to 8-bit blocks of 32 (Q8_0, or Q8_1 for Q4_1) and sums integer products per block
  // (kernels/cpu/matmul_block_activations_cpu.cpp). Off: activations stay f32 (the result equals
  // an f32 matmul on the dequantized weights). Other dtypes ignore it.
  bool quantize_block_activations = false;
};

enum class Op { kMatmul, kEmbedding };
// Whether the CPU kernels handle weights of `dtype` for `op` natively (a fast path) — dtypes that
// can be dequantized but have no fast path still run, through a per-row reference decoder.
bool cpu_has_fast_path(Op op, DType dtype);
// The SIMD instruction set the CPU kernels dispatch to on this machine ("AVX3" = AVX-512, "AVX2",
// "EMU128" = portable fallback), for benchmark and result provenance.
const char* cpu_simd_target();

// y[m][n] = sum_k x[m][k] * W[n][k] (+ bias[n] if bias != nullptr). f32 accumulation.
void matmul(const KernelContext& ctx, const float* x, std::int64_t m, const WeightRef& w,
            const float* bias, float* y);

// out[i][:] = dequantized row ids[i] of the table.
void embedding_lookup(const KernelContext& ctx, const WeightRef& table, const std::int32_t* ids,
                      std::int64_t n_ids, float* out);

// y = x / rms(x) * (weight + weight_offset) per row of `dim` (weight_offset = 1 for HF gemma).
// x and y may alias.
void rms_norm(const KernelContext& ctx, const float* x, const float* weight, float weight_offset,
              float eps, std::int64_t rows, std::int64_t dim, float* y);

enum class RopeLayout { kNormal, kNeox };  // adjacent pairs (2i, 2i+1) | (i, i + d/2)
// Rotates n_tokens × n_heads × head_dim in place; the angle for pair i at position p is
// p * inv_freq[i] (inv_freq has head_dim/2 entries; scaling is folded into it by the caller,
// and attention_factor multiplies cos and sin — yarn's mscale, 1 otherwise).
void rope(const KernelContext& ctx, float* x, std::int64_t n_tokens, std::int64_t n_heads,
          std::int64_t head_dim, const std::int32_t* positions, const float* inv_freq,
          RopeLayout layout, float attention_factor);

// out[i] = silu(gate[i]) * up[i]
void swiglu(const KernelContext& ctx, const float* gate, const float* up, float* out, std::int64_t n);
// out[i] = gelu_tanh(gate[i]) * up[i]  (gelu_pytorch_tanh, as gemma)
void geglu_tanh(const KernelContext& ctx, const float* gate, const float* up, float* out, std::int64_t n);

// y[i] = a[i] + b[i]; y may alias a or b.
void add(const KernelContext& ctx, const float* a, const float* b, float* y, std::int64_t n);
// x[i] *= s
void scale(const KernelContext& ctx, float* x, float s, std::int64_t n);

// KV cache storage of one layer: [n_positions][n_kv_heads][head_dim], f32 or f16.
struct KvRef {
  DType dtype = DType::F32;  // F32 or F16
  void* k = nullptr;
  void* v = nullptr;
  std::int64_t n_kv_heads = 0;
  std::int64_t head_dim = 0;
  // Positions the storage holds; when > 0, kv_store and attention reject positions outside
  // [0, max_positions) with an eaq::Error instead of touching memory past the cache.
  std::int64_t max_positions = 0;
};
// Writes n_tokens rows of k and v (f32, [n_tokens][n_kv_heads][head_dim]) at positions
// [first_position, first_position + n_tokens) of the cache.
void kv_store(const KernelContext& ctx, const KvRef& cache, std::int64_t first_position,
              std::int64_t n_tokens, const float* k, const float* v);

struct AttentionParams {
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;  // n_heads % n_kv_heads == 0 (GQA)
  std::int64_t head_dim = 0;
  float scale = 1.0f;              // multiplies q·k
  std::int64_t sliding_window = 0;  // 0 = none; else key j is visible from query i iff i - j < window
  float logit_softcap = 0.0f;       // 0 = none; else s = cap * tanh(s / cap)
};
// Causal attention over the cache: query t (q[t][n_heads][head_dim], at absolute position
// q_positions[t]) attends to cached positions [0, q_positions[t]] (and within the sliding window).
// Online softmax: no n×n score matrix. out: [n_tokens][n_heads][head_dim].
void attention(const KernelContext& ctx, const AttentionParams& params, const float* q,
               std::int64_t n_tokens, const std::int32_t* q_positions, const KvRef& cache,
               float* out);

// In-place softmax of each of `rows` rows of length n.
void softmax(const KernelContext& ctx, float* x, std::int64_t rows, std::int64_t n);
// log(sum_i exp(x[i])) of one row of length n > 0 (f32 exponentials, double sum); -inf if every
// entry is -inf. log_softmax(x)[t] = x[t] - log_sum_exp(x, n).
double log_sum_exp(const float* x, std::int64_t n);

// The token kernels/token_sampling.h's chain picks from logits[0..vocab): `penalized` are the
// distinct ids the repetition penalty applies to (each in [0, vocab)), `uniform` in [0, 1) the
// draw's number (unused when greedy); `candidates` is scratch (resized to vocab).
std::int32_t sample_token(const float* logits, std::int64_t vocab, const TokenSampling& sampling,
                          const std::int32_t* penalized, std::int64_t n_penalized, double uniform,
                          std::vector<std::pair<float, std::int32_t>>& candidates);

}  // namespace eaq::kernels
