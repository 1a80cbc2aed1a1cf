// CudaDecoderLm: the decoder-only transformer of DecoderLm (same DecoderSpec, same packed
// weights) run on one GPU. Weights are uploaded once (kernels/cuda/cuda_gemv.h layouts; fused
// QKV and gate|up where the dtypes agree); the f16 KV cache and every workspace are allocated at
// construction; a decode step is captured once as a CUDA graph and replayed, its token and
// position living on the device so greedy generation runs with no host round-trip per token.
// Prefill uses cuBLAS for f16/bf16 weights, and for packed weights dequantizes 64 MiB slices to f16
// for cuBLAS (EAQ_CUDA_PREFILL_DEQUANT=0: the batched GEMV, 8 tokens a pass, instead).
// Only CUDA builds compile this (cuda_decoder_lm_cuda.cpp); include it under EAQ_HAVE_CUDA.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/half_gemm.h"
#include "kernels/cuda/mixed_input_gemm.h"
#include "model/causal_lm.h"
#include "model/decoder_weights.h"

namespace eaq::model {

struct CudaModelOptions {
  int device_index = 0;
  std::int64_t max_positions = 4096;  // per slot
  std::int64_t n_slots = 1;
  int max_prefill_tokens = 512;  // longer runs go through in pieces of this many tokens
  // f16/bf16 weights sit on the GPU densely (cuBLAS prefill reads them); decode reads them with
  // the engine's half_matvec, or, when this is set (EAQ_CUDA_HALF_GEMV=kernels), with the weight
  // kernels' gemv() from a second, repacked copy (twice the memory; for comparison).
  bool half_gemv_from_kernels = false;
  // Prefill GEMMs of half weights take 16-bit activations (tensor cores). When set
  // (EAQ_CUDA_PREFILL=split), each activation is split into hi + lo halves (hi + lo + lo2 for
  // bf16) and the GEMM runs two (three) times, accumulating: ~f32 activation precision at that
  // many times the prefill cost (parity checks).
  bool split_half_activations = false;
};

// The matrices of one projection whose outputs sit side by side in one row (q|k|v, gate|up):
// one part when they were fused at upload, several when their dtypes differ.
struct CudaLinear {
  struct Part {
    DType dtype = DType::F16;  // as computed on the GPU
    std::int64_t rows = 0;
    std::int64_t column = 0;                 // first output column of this part
    kernels::cuda::GpuWeight weight;         // gemv() layout; empty for half weights read densely
    void* dense = nullptr;                   // f16/bf16 only: row-major, dense_stride elements a row
    std::int64_t dense_stride = 0;
    std::size_t decode_bytes = 0;            // what one decode GEMV of this part reads
    // Packed parts the prefill multiplies by CUTLASS's mixed-input GEMM: its own copy of the
    // codes (mixed_input_gemm.h); empty where the prefill dequantizes.
    kernels::cuda::MixedGemmWeight mixed;
  };
  std::vector<Part> parts;
  std::int64_t rows = 0;  // total output width
  std::int64_t cols = 0;
};

// What a decode projection (n_tokens <= kMaxGemvBatch) does besides y = W x, in the GEMV's kernel
// where it can (CudaDecoderLm::fused_decode_norms_): the input RMSNorm of the residual stream (x
// is then the stream itself; dense f16/bf16 parts fold it into the GEMV, packed ones get a norm
// kernel into xn_ first), and the output added to y, the residual stream, with an optional bias
// (a linear of one part only); or, for the fused gate|up projection, the gated activation in the
// GEMV's epilogue (y then holds act(gate) * up, half the rows; CudaDecoderLm::can_gate).
struct CudaLinearFusion {
  const float* norm_weight = nullptr;
  bool accumulate = false;
  const float* bias = nullptr;
  kernels::cuda::Gate gate = kernels::cuda::Gate::kNone;
  // A prefill GEMM writes y as f16 (y's buffer holding [n_tokens][rows] halves): one dense f16 part.
  bool f16_output = false;
};

class CudaDecoderLm : public CausalLm {
 public:
  CudaDecoderLm(const DecoderSpec& spec, const DecoderWeights& weights, const CudaModelOptions& options);
  ~CudaDecoderLm() override;
  CudaDecoderLm(const CudaDecoderLm&) = delete;
  CudaDecoderLm& operator=(const CudaDecoderLm&) = delete;

  std::string architecture() const override { return spec_.architecture; }
  std::int64_t vocab_size() const override { return spec_.vocab_size; }
  std::int64_t n_layers() const override { return spec_.n_layers; }
  std::int64_t n_kv_heads() const override { return spec_.n_kv_heads; }
  std::int64_t head_dim() const override { return spec_.head_dim; }
  std::int64_t context_length() const override { return spec_.context_length; }
  bool owns_kv_cache() const override { return true; }
  void copy_kv_prefix(std::int64_t from_slot, std::int64_t to_slot, std::int64_t n_positions) override;

  // Copies logits back to the host (what Session and scoring need). The KvStore only bounds the
  // positions: keys and values stay in this model's own cache on the GPU.
  void forward(std::span<const TokenChunk> chunks, KvStore& kv, LogitsRows rows, float* logits) override;

  // One decode step (the captured graph) and the next token picked on the GPU: the graph's argmax
  // for plain greedy, else kernels/cuda sample_token on the logits where they are; 4 bytes come
  // back instead of the logits row. EAQ_CUDA_SAMPLING=host turns it off (the Session then copies
  // the logits and samples on the host: A/B and parity checks).
  bool samples_on_device() const override { return device_sampling_; }
  std::int32_t forward_and_sample(std::int32_t token, std::int64_t position, KvStore& kv,
                                  const kernels::TokenSampling& sampling, std::span<const std::int32_t> penalized,
                                  double uniform) override;

  // Greedy generation on the device, for benchmarks (slot 0, logits never leave the GPU):
  // begin_greedy runs the prompt from position 0 and picks the first token; continue_greedy
  // enqueues n_steps replays of the captured step, each picking the next (graph_steps_ steps a
  // graph launch where n_steps allows, the rest one a launch); greedy_tokens waits
  // and returns the n tokens picked so far. Nothing here synchronises except greedy_tokens.
  void begin_greedy(std::span<const std::int32_t> prompt);
  void continue_greedy(int n_steps);
  int graph_steps() const { return graph_steps_; }
  // Prefill pieces as CUDA graphs (the default) or launched kernel by kernel; for A/B checks in
  // one process (EAQ_CUDA_PREFILL_GRAPH sets the start).
  void set_prefill_graphs(bool on) { prefill_graphs_enabled_ = on; }
  bool prefill_graphs() const { return prefill_graphs_enabled_; }
  std::vector<std::int32_t> greedy_tokens(int n);
  // Restarts the greedy loop at `position` with `token` next and the step count at 0, keeping
  // the cache below `position` (benchmarks repeat one decode stretch for a long energy window).
  void rewind_greedy(std::int64_t position, std::int32_t token);

  cudaStream_t stream() const { return stream_; }
  const kernels::cuda::CudaDeviceInfo& device() const { return device_; }
  // Bytes of weights one decode step reads (all projections and the LM head).
  std::size_t decode_weight_bytes() const;
  // Bytes of the weights, embedding table and norms on the GPU; of the KV cache.
  std::size_t weight_device_bytes() const { return weight_device_bytes_; }
  std::size_t kv_cache_bytes() const { return kv_bytes_; }
  // How the weights were placed, e.g. "f16 (q|k|v and gate|up fused), gemv: kernels".
  const std::string& description() const { return description_; }

 private:
  struct Layer {
    CudaLinear qkv, wo, gate_up, down;
    float* attn_norm = nullptr;
    float* ffn_norm = nullptr;
    float* post_attn_norm = nullptr;
    float* post_ffn_norm = nullptr;
    float* q_norm = nullptr;
    float* k_norm = nullptr;
    float* qkv_bias = nullptr;
    float* bo = nullptr;
    bool is_sliding = false;
  };

  void release();
  CudaLinear upload_linear(std::span<const kernels::WeightRef> matrices, const char* what);
  float* upload_floats(const float* host, std::int64_t n, const char* what);
  void* alloc(std::size_t bytes, const char* what);
  // x_half_ready: x_half_ already holds x in gemm_input_dtype(linear) (written by the kernel that
  // made x), so the GEMMs skip their conversion.
  void run_linear(const CudaLinear& linear, const float* x, int n_tokens, float* y, bool x_half_ready = false,
                  const CudaLinearFusion& fusion = {});
  // The 16-bit dtype every part of `linear` takes in a prefill GEMM of n_tokens (f16/bf16 weights:
  // theirs; packed weights: f16), when the producer of its input can write x_half_ itself: not in
  // the split mode, not for batches the GEMV takes, and only when all parts agree. nullopt unless
  // producers_write_half_.
  std::optional<DType> gemm_input_dtype(const CudaLinear& linear, int n_tokens) const;
  // Whether `linear` is one dense f16/bf16 part: what the prefill GEMM's own epilogues (y +=, an f16
  // output) need.
  bool one_dense_half_part(const CudaLinear& linear) const;
  // One packed part the mixed-input GEMM multiplies and that can add into y (int4: y +=).
  bool one_mixed_accumulating_part(const CudaLinear& linear) const;
  // Whether the prefill's o_proj or down (`linear` of `layer`) adds into x_ itself.
  bool prefill_adds_residual(const Layer& layer, const CudaLinear& linear, int n_tokens) const;
  // Whether the prefill's gate|up GEMM writes f16 for the activation (f16_gate_up_).
  bool prefill_f16_gate_up(const CudaLinear& gate_up, int n_tokens) const;
  // Whether the prefill's q|k|v GEMM writes f16 for the RoPE kernel (f16_qkv_).
  bool prefill_f16_qkv(const CudaLinear& qkv, int n_tokens) const;
  // Whether a decode projection of `linear` (n_tokens <= kMaxGemvBatch) can take
  // CudaLinearFusion::gate: one part, read by half_matvec or by a gemv() that takes it at n_tokens
  // (kc::gemv_supports_gate: the chunk layout, or the tensor-core tiles at 1-4 tokens on sm_90).
  bool can_gate(const CudaLinear& linear, int n_tokens) const;
  // The layers and (with final_norm) the final norm for n_tokens tokens at positions (device) of
  // `slot`; leaves the final-normed hidden rows in xn_ (without final_norm, with fused decode
  // norms, the residual stream in x_).
  void run_layers(int n_tokens, const std::int32_t* positions, std::int64_t slot, bool final_norm = true);
  void enqueue_decode_step();
  // The captured decode step (steps 1: decode_graph_), or `steps` of them one after another in
  // one graph (decode_graph_steps_), so consecutive steps meet by programmatic launch (pdl.cuh)
  // instead of at a graph boundary.
  void ensure_decode_graph(int steps = 1);
  void prefill_piece(std::span<const std::int32_t> tokens, std::int64_t first_position, std::int64_t slot);
  void* k_cache(std::int64_t layer, std::int64_t slot) const;
  void* v_cache(std::int64_t layer, std::int64_t slot) const;

  DecoderSpec spec_;
  CudaModelOptions options_;
  kernels::cuda::CudaDeviceInfo device_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<kernels::cuda::HalfGemm> gemm_;  // the prefill's 16-bit GEMMs (cuBLASLt, tuned)
  cudaGraphExec_t decode_graph_ = nullptr;
  cudaGraphExec_t decode_graph_steps_ = nullptr;  // graph_steps_ steps
  // A prefill piece's kernels (embedding lookup and layers) as a CUDA graph, keyed by its token
  // count and slot (its ids and positions are read from the device): the key's first piece runs
  // launch by launch (the GEMMs time their candidates then), its second is captured and later ones
  // replay it. At most kPrefillGraphs keys are kept, the least recently used replaced.
  // EAQ_CUDA_PREFILL_GRAPH=0 launches every piece kernel by kernel (A/B).
  struct PrefillGraph {
    int tokens = 0;
    std::int64_t slot = -1;
    int runs = 0;
    std::uint64_t last_use = 0;
    cudaGraphExec_t exec = nullptr;
  };
  static constexpr std::size_t kPrefillGraphs = 4;
  std::vector<PrefillGraph> prefill_graphs_;
  std::uint64_t prefill_graph_clock_ = 0;
  bool prefill_graphs_enabled_ = true;
  // The entry of (tokens, slot), made (replacing the least recently used) where there is none.
  PrefillGraph& prefill_graph(int tokens, std::int64_t slot);
  // Steps a graph launch in continue_greedy (EAQ_CUDA_GRAPH_STEPS, 1..64; 1: a launch a step).
  int graph_steps_ = 8;
  std::vector<void*> allocations_;
  std::vector<kernels::cuda::GpuWeight*> weights_owned_;

  void* embedding_ = nullptr;
  DType embedding_dtype_ = DType::F16;  // f16 when stored as f16, else f32 (values kept exact)
  std::vector<Layer> layers_;
  float* final_norm_ = nullptr;
  CudaLinear lm_head_;
  float* inv_freq_global_ = nullptr;
  float* inv_freq_sliding_ = nullptr;
  std::size_t weight_device_bytes_ = 0;
  std::size_t kv_bytes_ = 0;
  std::string description_;

  // KV cache: [layer][slot][position][n_kv_heads][head_dim] f16, keys and values apart.
  void* k_base_ = nullptr;
  void* v_base_ = nullptr;
  // Workspaces for max_prefill_tokens rows.
  float *x_ = nullptr, *xn_ = nullptr, *qkv_ = nullptr, *q_ = nullptr, *attn_ = nullptr, *tmp_ = nullptr;
  float *gate_up_ = nullptr, *act_ = nullptr, *logits_ = nullptr, *scratch_ = nullptr, *partial_ = nullptr;
  void* x_half_ = nullptr;
  void* dequant_ = nullptr;  // f16 slice of a packed weight for the prefill GEMM (none: batched GEMV)
  std::int64_t dequant_halves_ = 0;
  // Whether packed parts the mixed-input GEMM takes get its copy for the prefill (upload_linear):
  // where it is available, unless EAQ_CUDA_PACKED_PREFILL=dequant or the prefill splits its
  // activations or runs batched GEMVs.
  bool mixed_prefill_ = false;
  std::int32_t *ids_ = nullptr, *positions_ = nullptr;
  // Decode state on the device: the token to run, its position, the step counter, the tokens.
  std::int32_t *token_ = nullptr, *position_ = nullptr, *step_ = nullptr, *out_tokens_ = nullptr;
  std::int32_t* host_staging_ = nullptr;  // pinned: ids + positions of a piece, decode token/position
  // Sampling on the GPU: the picked token, the penalty list (at most penalized_capacity_ ids),
  // sample_token's workspace, and a pinned staging area: token, position, step, the picked token
  // coming back, then the penalty list.
  bool device_sampling_ = true;
  std::int32_t* sampled_ = nullptr;
  std::int32_t* penalized_ = nullptr;
  std::int64_t penalized_capacity_ = 0;
  void* sample_workspace_ = nullptr;
  std::size_t sample_workspace_bytes_ = 0;
  std::int32_t* sampling_staging_ = nullptr;
  int max_splits_ = 1;
  unsigned* split_counters_ = nullptr;  // [n_heads], zero between decode attention launches
  bool fused_decode_rope_ = true;       // decode attention makes q and writes k/v (EAQ_CUDA_FUSED_ROPE=0: off)
  // Decode steps (and pieces of at most kMaxGemvBatch tokens) keep the residual stream in x_ by
  // the o_proj and down GEMVs' epilogues (y +=), so the norms read x_ alone (CudaLinearFusion).
  // Off for sandwich norms and split projections; EAQ_CUDA_FUSED_NORM=0 turns it off (A/B).
  bool fused_decode_norms_ = true;
  // Or the norm computed on the fly in the f16/bf16 GEMV after it and the final norm in the LM
  // head's (EAQ_CUDA_FUSED_NORM=gemv; =kernel, the default, keeps the norm kernels): two kernels
  // fewer a layer, but slower on an H100 (f16 decode, same call, docs/cuda.md: 1.3B 639.3 / 637.7
  // against 781.1 / 779.8 tok/s, 7B 172.4 / 172.8 against 199.1 / 199.1; 637.4 with the kernel
  // held to the plain form's blocks an SM by __launch_bounds__, so not its registers), as was its
  // earlier form that staged x * g in shared memory.
  bool norm_in_gemv_ = false;
  // Decode: the gated activation in the gate|up GEMV's epilogue where can_gate (one kernel fewer a
  // layer); EAQ_CUDA_GATED_GEMV=0 keeps the gated_activation kernel (A/B).
  bool gated_gemv_ = true;
  // Prefill GEMM inputs written in 16 bits by the kernels that make them (gemm_input_dtype).
  // Measured on an H100 (bench_engine_cuda, 512-token prompt, same call): prefill f16 1.3B
  // 111548 -> 121531 tok/s, 7B 34626 -> 36529; int8 +7% / +3% (docs/cuda.md).
  // EAQ_CUDA_PREFILL_HALF_INPUTS=0 turns it off (A/B).
  bool producers_write_half_ = true;
  // Prefill (more than kMaxGemvBatch tokens): the o_proj and down GEMMs add into the residual
  // stream x_ (cuBLAS's beta = 1) where prefill_adds_residual, so the next norm reads x_ alone
  // instead of x_ and tmp_ and writing x_ back: the same f32 sums. EAQ_CUDA_PREFILL_RESIDUAL_GEMM=0
  // turns it off (A/B).
  bool residual_in_gemm_ = true;
  // Prefill: the gate|up GEMM of an f16 model writes f16 (its f32 sums rounded once, as an f16
  // GEMM in transformers does), which the activation reads: half the bytes written and read
  // between them. EAQ_CUDA_PREFILL_F16_GATE_UP=0 keeps f32 (A/B).
  bool f16_gate_up_ = true;
  // The prefill's q|k|v GEMM of an f16 model writes f16, which the RoPE + KV-write kernel reads
  // (half the bytes between them; K and V go into the f16 cache, the query to the f16 attention).
  // EAQ_CUDA_PREFILL_F16_QKV=0 keeps f32 (A/B).
  bool f16_qkv_ = true;
  std::int64_t greedy_position_ = 0;  // host's count of positions the greedy loop has filled
  std::int64_t scratch_floats_ = 0;
};

}  // namespace eaq::model
