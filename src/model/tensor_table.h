// Tensor tables: per architecture, every weight under its one canonical eaq name (llama.cpp's GGUF
// names: "token_embd.weight", "blk.{i}.attn_q.weight", ...), the Hugging Face name and llama2.c
// array it comes from, its expected shape (outermost first, i.e. {out_features, in_features} for
// projections) and when it must be present. Name mapping is data here, never string matching in
// forward code.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model_config.h"

namespace eaq::model {

// A dimension of an expected shape, resolved against a ModelConfig.
enum class Dim : std::uint8_t {
  kNone,          // pads a rank-1 shape
  kVocab,         // vocab_size
  kHidden,        // hidden_size
  kIntermediate,  // intermediate_size
  kQDim,          // n_heads · head_dim
  kKvDim,         // n_kv_heads · head_dim
  kHeadDim,       // head_dim
  kRopeHalf,      // rope_dim / 2
};

enum class Presence : std::uint8_t {
  kRequired,
  kIfQkvBias,         // config.qkv_bias
  kIfAttnOutputBias,  // config.attn_output_bias
  kIfUntied,          // !config.tied_embeddings
  kIfFreqFactors,     // rope_scaling.type == kFreqFactors (GGUF only)
};

struct TensorSpec {
  std::string_view name;          // canonical; "{i}" stands for the layer index
  std::string_view hf_name;       // transformers' state-dict name; "" = never in HF checkpoints
  std::string_view llama2c_name;  // run.c's array (per-layer arrays are stacked); "" = absent
  std::array<Dim, 2> shape;
  Presence presence;
  bool per_layer() const { return name.find("{i}") != std::string_view::npos; }
};

// The table of an architecture, in a stable order (globals first, then per-layer entries).
std::span<const TensorSpec> tensor_table(Architecture architecture);

// Whether `spec` must be present for `config`.
bool is_expected(const TensorSpec& spec, const ModelConfig& config);
// The expected shape of `spec` under `config`, outermost first.
std::vector<std::int64_t> expected_shape(const TensorSpec& spec, const ModelConfig& config);
// Replaces "{i}" in a name pattern with `layer`.
std::string layer_tensor_name(std::string_view pattern, std::int64_t layer);

// HF checkpoints of older transformers versions also store these buffers; they are recomputed
// at run time, so loaders skip them.
bool is_ignored_hf_buffer(std::string_view hf_name);

}  // namespace eaq::model
