// DecoderLm: the forward pass of a decoder-only transformer (pre-norm, rotary attention with GQA,
// gated MLP), parameterised by a DecoderSpec. The per-architecture files (llama.cpp, qwen2.cpp,
// gemma3.cpp) turn a loaded model into a spec and weights; the quirks live there, as data.
#pragma once

#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "model/causal_lm.h"
#include "model/decoder_weights.h"

namespace eaq::model {

class DecoderLm : public CausalLm {
 public:
  // `keep_alive` owns whatever the weights point into (the mapped file, converted buffers).
  DecoderLm(DecoderSpec spec, DecoderWeights weights, std::shared_ptr<const void> keep_alive,
            int n_threads);

  std::string architecture() const override { return spec_.architecture; }
  std::int64_t vocab_size() const override { return spec_.vocab_size; }
  std::int64_t n_layers() const override { return spec_.n_layers; }
  std::int64_t n_kv_heads() const override { return spec_.n_kv_heads; }
  std::int64_t head_dim() const override { return spec_.head_dim; }
  std::int64_t context_length() const override { return spec_.context_length; }
  const DecoderSpec& spec() const { return spec_; }
  const DecoderWeights& weights() const { return weights_; }
  ThreadPool& thread_pool() { return pool_; }
  // ggml's reference numerics for Q8_0/Q4_0/Q4_1 matrices (kernels::KernelContext::quantize_block_activations).
  void set_quantize_block_activations(bool on) { ctx_.quantize_block_activations = on; }
  bool quantize_block_activations() const { return ctx_.quantize_block_activations; }

  void forward(std::span<const TokenChunk> chunks, KvStore& kv, LogitsRows rows, float* logits) override;

 private:
  void run_layer(std::int64_t layer_index, std::span<const TokenChunk> chunks, KvStore& kv,
                 std::int64_t n_tokens);

  DecoderSpec spec_;
  DecoderWeights weights_;
  std::shared_ptr<const void> keep_alive_;
  ThreadPool pool_;
  kernels::KernelContext ctx_;
  // Workspaces, grown on demand and reused between calls.
  std::vector<std::int32_t> positions_, token_ids_;
  std::vector<float> x_, xn_, q_, k_, v_, attn_, tmp_, gate_, up_, out_rows_;
};

}  // namespace eaq::model
