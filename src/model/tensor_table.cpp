// The tensor tables of llama, qwen2 and gemma3 (GGUF names from llama.cpp's llama-arch.cpp and
// gguf-py tensor_mapping.py; HF names from transformers' modeling_{llama,qwen2,gemma3}.py;
// llama2.c arrays from run.c's TransformerWeights).
#include "model/tensor_table.h"

#include "core/error.h"

namespace eaq::model {

namespace {

using D = Dim;
using P = Presence;

constexpr TensorSpec kLlamaTable[] = {
    {"token_embd.weight", "model.embed_tokens.weight", "token_embedding_table", {D::kVocab, D::kHidden}, P::kRequired},
    {"output_norm.weight", "model.norm.weight", "rms_final_weight", {D::kHidden, D::kNone}, P::kRequired},
    {"output.weight", "lm_head.weight", "wcls", {D::kVocab, D::kHidden}, P::kIfUntied},
    {"rope_freqs.weight", "", "", {D::kRopeHalf, D::kNone}, P::kIfFreqFactors},
    {"blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight", "rms_att_weight", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight", "wq", {D::kQDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight", "wk", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight", "wv", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight", "wo", {D::kHidden, D::kQDim}, P::kRequired},
    {"blk.{i}.attn_q.bias", "model.layers.{i}.self_attn.q_proj.bias", "", {D::kQDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_k.bias", "model.layers.{i}.self_attn.k_proj.bias", "", {D::kKvDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_v.bias", "model.layers.{i}.self_attn.v_proj.bias", "", {D::kKvDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_output.bias", "model.layers.{i}.self_attn.o_proj.bias", "", {D::kHidden, D::kNone}, P::kIfAttnOutputBias},
    {"blk.{i}.ffn_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", "rms_ffn_weight", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight", "w1", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight", "w3", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight", "w2", {D::kHidden, D::kIntermediate}, P::kRequired},
};

// Qwen2: the llama layout; its q/k/v biases are required through config.qkv_bias.
constexpr TensorSpec kQwen2Table[] = {
    {"token_embd.weight", "model.embed_tokens.weight", "", {D::kVocab, D::kHidden}, P::kRequired},
    {"output_norm.weight", "model.norm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"output.weight", "lm_head.weight", "", {D::kVocab, D::kHidden}, P::kIfUntied},
    {"blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight", "", {D::kQDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight", "", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight", "", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_q.bias", "model.layers.{i}.self_attn.q_proj.bias", "", {D::kQDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_k.bias", "model.layers.{i}.self_attn.k_proj.bias", "", {D::kKvDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_v.bias", "model.layers.{i}.self_attn.v_proj.bias", "", {D::kKvDim, D::kNone}, P::kIfQkvBias},
    {"blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight", "", {D::kHidden, D::kQDim}, P::kRequired},
    {"blk.{i}.ffn_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight", "", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight", "", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight", "", {D::kHidden, D::kIntermediate}, P::kRequired},
};

// Gemma 3: q/k RMSNorm per head, and norms after attention and after the FFN. Note the HF names:
// post_attention_layernorm is the norm *after* attention (GGUF post_attention_norm), and
// pre_feedforward_layernorm is the llama-style ffn_norm.
constexpr TensorSpec kGemma3Table[] = {
    {"token_embd.weight", "model.embed_tokens.weight", "", {D::kVocab, D::kHidden}, P::kRequired},
    {"output_norm.weight", "model.norm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"output.weight", "lm_head.weight", "", {D::kVocab, D::kHidden}, P::kIfUntied},
    {"blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight", "", {D::kQDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight", "", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight", "", {D::kKvDim, D::kHidden}, P::kRequired},
    {"blk.{i}.attn_q_norm.weight", "model.layers.{i}.self_attn.q_norm.weight", "", {D::kHeadDim, D::kNone}, P::kRequired},
    {"blk.{i}.attn_k_norm.weight", "model.layers.{i}.self_attn.k_norm.weight", "", {D::kHeadDim, D::kNone}, P::kRequired},
    {"blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight", "", {D::kHidden, D::kQDim}, P::kRequired},
    {"blk.{i}.post_attention_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.ffn_norm.weight", "model.layers.{i}.pre_feedforward_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
    {"blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight", "", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight", "", {D::kIntermediate, D::kHidden}, P::kRequired},
    {"blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight", "", {D::kHidden, D::kIntermediate}, P::kRequired},
    {"blk.{i}.post_ffw_norm.weight", "model.layers.{i}.post_feedforward_layernorm.weight", "", {D::kHidden, D::kNone}, P::kRequired},
};

std::int64_t resolve(Dim d, const ModelConfig& c) {
  switch (d) {
    case Dim::kNone: return 0;
    case Dim::kVocab: return c.vocab_size;
    case Dim::kHidden: return c.hidden_size;
    case Dim::kIntermediate: return c.intermediate_size;
    case Dim::kQDim: return c.q_dim();
    case Dim::kKvDim: return c.kv_dim();
    case Dim::kHeadDim: return c.head_dim;
    case Dim::kRopeHalf: return c.rope_dim / 2;
  }
  return 0;
}

}  // namespace

std::span<const TensorSpec> tensor_table(Architecture architecture) {
  switch (architecture) {
    case Architecture::kLlama: return kLlamaTable;
    case Architecture::kQwen2: return kQwen2Table;
    case Architecture::kGemma3: return kGemma3Table;
  }
  EAQ_CHECK(false, "no tensor table for architecture {}", static_cast<int>(architecture));
}

bool is_expected(const TensorSpec& spec, const ModelConfig& c) {
  switch (spec.presence) {
    case Presence::kRequired: return true;
    case Presence::kIfQkvBias: return c.qkv_bias;
    case Presence::kIfAttnOutputBias: return c.attn_output_bias;
    case Presence::kIfUntied: return !c.tied_embeddings;
    case Presence::kIfFreqFactors: return c.rope_scaling.type == RopeScalingType::kFreqFactors;
  }
  return false;
}

std::vector<std::int64_t> expected_shape(const TensorSpec& spec, const ModelConfig& c) {
  std::vector<std::int64_t> shape;
  for (Dim d : spec.shape) {
    if (d != Dim::kNone) shape.push_back(resolve(d, c));
  }
  return shape;
}

std::string layer_tensor_name(std::string_view pattern, std::int64_t layer) {
  std::string out(pattern);
  auto at = out.find("{i}");
  if (at != std::string::npos) out.replace(at, 3, std::to_string(layer));
  return out;
}

bool is_ignored_hf_buffer(std::string_view hf_name) { return hf_name.ends_with(".rotary_emb.inv_freq"); }

}  // namespace eaq::model
