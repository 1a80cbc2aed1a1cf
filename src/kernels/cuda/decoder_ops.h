// The decoder-layer ops of the CUDA backend other than the weight-reading GEMV (cuda_gemv.h) and
// the prefill GEMM (cublas_gemm.h): embedding, fused residual-add + RMSNorm, bias + q/k-norm +
// RoPE + KV-cache write, gated activations, attention (split-K flash-decoding and a tiled
// prefill kernel, both with GQA and sliding window), GPU argmax and sampling. flashinfer-style: pointers,
// sizes and a stream; no allocation and no host sync, so every launcher is graph-capturable.
// Activations are f32; the KV cache is f16 [positions][n_kv_heads][head_dim] per layer and slot.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/gemv_epilogue.h"
#include "kernels/token_sampling.h"

namespace eaq::kernels::cuda {

// x[t][:] = f32(table[ids[t]][:]) * scale; table [vocab][dim] in table_dtype, F16 or F32.
void embedding_lookup(const void* table, DType table_dtype, const std::int32_t* ids, int n_tokens, int dim,
                      float scale, float* x, cudaStream_t stream);

// Per row of `dim`: if delta != nullptr, x += delta (x is written back); then
// y = x / rms(x) * (weight + weight_offset). y may alias x. When y_half != nullptr the normalised
// row is also written there in `half_dtype` (F16 or BF16) for a cuBLAS GEMM; y may then be nullptr
// (a prefill whose GEMM reads only the 16-bit copy: 8 MB less written a norm at 512 x 4096).
void add_rms_norm(float* x, const float* delta, const float* weight, float weight_offset, float eps, int rows,
                  int dim, float* y, void* y_half, DType half_dtype, cudaStream_t stream);

struct RopeKvParams {
  int n_tokens = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  const float* qkv = nullptr;   // [n_tokens][(n_heads + 2 n_kv_heads) head_dim], GEMV/GEMM output
  bool qkv_f16 = false;         // qkv holds f16 values (a prefill GEMM's f16 output): rope_reads_f16_qkv
  const float* bias = nullptr;  // [(n_heads + 2 n_kv_heads) head_dim] or nullptr
  const float* q_norm = nullptr;  // [head_dim] RMSNorm weights of each q / k head, or nullptr
  const float* k_norm = nullptr;
  float norm_offset = 0.0f;
  float norm_eps = 1e-6f;
  const float* inv_freq = nullptr;  // [head_dim / 2], device
  bool neox = true;                 // pairs (i, i + d/2); else (2i, 2i + 1)
  float attention_factor = 1.0f;
  const std::int32_t* positions = nullptr;  // [n_tokens], device
  float* q_out = nullptr;                   // [n_tokens][n_heads][head_dim]
  void* k_cache = nullptr;                  // f16 [max_positions][n_kv_heads][head_dim]
  void* v_cache = nullptr;
};
void rope_kv_write(const RopeKvParams& params, cudaStream_t stream);
// Whether rope_kv_write takes an f16 qkv (RopeKvParams::qkv_f16) for this head size: 64, 128 and
// 256, the kernel with each lane's values in registers (unless EAQ_CUDA_ROPE_VEC=0).
bool rope_reads_f16_qkv(int head_dim);

// out[t][i] = act(gate_up[t][i]) * gate_up[t][inter + i]: silu (SwiGLU) or gelu-tanh (GeGLU).
// out_half (optional) receives the same in half_dtype; out may then be nullptr (the prefill's down
// GEMM reads only the 16-bit copy).
void gated_activation(const float* gate_up, int n_tokens, int inter, bool gelu_tanh, float* out, void* out_half,
                      DType half_dtype, cudaStream_t stream);
// The same from an f16 gate|up [n_tokens][2 inter] (the prefill GEMM's f16 output).
void gated_activation_f16_in(const void* gate_up_f16, int n_tokens, int inter, bool gelu_tanh, float* out,
                             void* out_half, DType half_dtype, cudaStream_t stream);

struct AttentionCudaParams {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;  // even, at most 256
  float scale = 1.0f;
  int sliding_window = 0;  // 0 = none
  float logit_softcap = 0.0f;
  const void* k_cache = nullptr;  // f16 [max_positions][n_kv_heads][head_dim]
  const void* v_cache = nullptr;
};

// Output dims each lane of an attention warp owns for this head_dim (eaq::Error if unsupported).
int attention_lane_dims(int head_dim);

// Keys per split of the decode kernels: a step at position p uses ceil((p + 1) / split_keys)
// splits. The lane-per-key kernel takes kDecodeSplitKeys; the 16-byte-load kernel (head_dim 64,
// 128, 256) 32, 64 or 128 (EAQ_CUDA_DECODE_SPLIT_KEYS, default kDecodeVecSplitKeys).
inline constexpr int kDecodeSplitKeys = 128;
inline constexpr int kDecodeMinSplitKeys = 32;
inline constexpr int kDecodeVecSplitKeys = 128;
inline constexpr int kDecodeCluster = -1;
// The split workspace's capacity (attention_decode's max_splits) for a cache of max_positions:
// enough for the smallest split.
inline int decode_max_splits(std::int64_t max_positions) {
  return static_cast<int>((max_positions + kDecodeMinSplitKeys - 1) / kDecodeMinSplitKeys);
}

// One query token per head, split-K over the cache; out: [n_heads][head_dim]. Either `rope` (its
// qkv, positions[0], bias/norms, k_cache and v_cache; q == nullptr): the kernel makes the query
// from the QKV projection and writes the token's key and value into the cache itself, in place of
// rope_kv_write; or a ready query `q` at *position (rope == nullptr). partial: f32 workspace of
// n_heads * max_splits * (head_dim + 2), max_splits = decode_max_splits(cache positions);
// split_counters: n_heads zeroed unsigned ints, left zeroed. split_keys picks the kernel: 0 =
// automatic (the cluster kernel where it fits, else split-K with EAQ_CUDA_DECODE_SPLIT_KEYS or
// kDecodeVecSplitKeys keys a split); kDecodeCluster = the cluster kernel (compute capability 9.0+,
// head_dim 64/128/256; elsewhere as 0); 32, 64 or 128 = split-K with that many keys a split.
void attention_decode(const AttentionCudaParams& params, const RopeKvParams* rope, const float* q,
                      const std::int32_t* position, int max_splits, float* partial, unsigned* split_counters,
                      float* out, cudaStream_t stream, int split_keys = 0);

// n_tokens queries at positions[t] (device), each attending to the cache up to its own position.
// out: [n_tokens][n_heads][head_dim]; out_half (optional) the same in half_dtype.
// f16_products: the query and softmax weights may be rounded to f16 (FlashAttention-2 style kernel,
// ~1e-3 relative; head_dim 64 and 128, else as false); false keeps f32 accuracy (~2e-7).
void attention_prefill(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                       int n_tokens, float* out, void* out_half, DType half_dtype, bool f16_products,
                       cudaStream_t stream);

// x[i] = cap * tanh(x[i] / cap)
void softcap(float* x, std::int64_t n, float cap, cudaStream_t stream);
// y[r][i] += bias[i]
void add_bias(float* y, const float* bias, int rows, int n, cudaStream_t stream);
// out = half(x) in half_dtype (F16 or BF16)
void to_half(const float* x, std::int64_t n, void* out, DType half_dtype, cudaStream_t stream);
// hi = half(x), lo = half(x - hi): hi + lo carries ~22 bits of x in f16 (16 in bf16), so two
// 16-bit GEMMs (hi, then lo accumulated) come close to an f32-activation GEMM. lo2 (optional) =
// half(x - hi - lo), a third part: bf16 hi + lo + lo2 carry 24 bits.
void to_half_split(const float* x, std::int64_t n, void* hi, void* lo, DType half_dtype, cudaStream_t stream,
                   void* lo2 = nullptr);

// Greedy step bookkeeping on the device: *token = argmax(logits[0..vocab)), out_tokens[*step] =
// *token, then ++*step and ++*position — so a captured decode step feeds the next one.
void argmax_next_token(const float* logits, int vocab, std::int32_t* token, std::int32_t* out_tokens,
                       std::int32_t* step, std::int32_t* position, cudaStream_t stream);

// The token kernels/token_sampling.h's chain picks from logits[0..vocab) — the GPU twin of the CPU
// op kernels::sample_token, written to *token (device). penalized: n_penalized distinct ids
// (device) for the repetition penalty; uniform in [0, 1): the draw's number. workspace (device):
// at least sample_token_workspace_bytes(vocab). No allocation, no host sync; launched each step
// outside the decode graph, since the penalty list and the uniform number change.
std::size_t sample_token_workspace_bytes(int vocab);
void sample_token(const float* logits, int vocab, const TokenSampling& sampling, const std::int32_t* penalized,
                  int n_penalized, double uniform, void* workspace, std::size_t workspace_bytes, std::int32_t* token,
                  cudaStream_t stream);

// What a decode half_matvec does besides y = W x, each in place of a kernel of its own.
struct HalfMatvecFusion {
  // Input RMSNorm: the product takes x[b] / rms(x[b]) * (norm_weight + norm_offset) (length cols,
  // device) in place of x[b], computed on the fly; x is not written. nullptr: x as it is. With or
  // without the gated activation.
  const float* norm_weight = nullptr;
  float norm_offset = 0.0f;
  float norm_eps = 1e-6f;
  const float* bias = nullptr;  // [rows], device: y += bias
  bool accumulate = false;      // y += the product (a residual stream) instead of y =
  // Gated activation in place of gated_activation(): rows [0, rows / 2) are the gate, the rest the
  // up projection, and y[b][j] = act(gate_j . x[b]) * (up_j . x[b]) for j < rows / 2 (y holds
  // rows / 2 values a batch row). Without bias or accumulation.
  Gate gate = Gate::kNone;
};

// y[b][n] = sum_k x[b][k] * W[n][k] for dense f16 or bf16 W (row stride `row_stride` elements),
// b < batch <= 8; f32 accumulation; with `fusion` as described there. The engine's own path for
// dense half weights.
void half_matvec(const void* w, DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                 const float* x, int batch, float* y, cudaStream_t stream, const HalfMatvecFusion& fusion = {});

}  // namespace eaq::kernels::cuda
