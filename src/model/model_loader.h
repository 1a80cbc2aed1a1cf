// load_model: opens a model in any format eaq reads — a GGUF file, a Hugging Face safetensors
// directory (config.json + model.safetensors or shards + index), or a llama2.c .bin checkpoint —
// detecting the format by content, and returns its ModelConfig plus every weight under its
// canonical name (see tensor_table.h), validated for presence and shape. Weights are views into
// the memory-mapped files, which the LoadedModel keeps open.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "model/model_config.h"

namespace eaq::gguf {
class GgufFile;
}
namespace eaq::safetensors {
class SafetensorsShards;
}
namespace eaq::llama2c {
class Llama2cCheckpoint;
}

namespace eaq::model {

struct ModelTensor {
  std::string name;                 // canonical: "blk.3.attn_q.weight"
  std::string source_name;          // as stored: GGUF/HF name, or "wq[3]" for llama2.c
  DType dtype;                      // as stored (GGUF block formats included)
  std::vector<std::int64_t> shape;  // outermost first: {out_features, in_features}
  // Into the mapped file, aligned to the element size: safetensors tensors that the file leaves
  // misaligned are copied into memory the LoadedModel owns (see LoadedModel::copied_bytes()).
  const std::uint8_t* data;
  std::uint64_t n_bytes;
  std::int64_t n_elements() const;
};

enum class TokenizerSourceKind {
  kNone,           // nothing found beside the model
  kGguf,           // the vocabulary embedded in the GGUF (tokenizer.ggml.*)
  kTokenizerJson,  // an HF tokenizer.json in the model directory
  kLlama2cBin,     // llama2.c tokenizer.bin (or tok<vocab>.bin) beside the checkpoint
};
std::string_view tokenizer_source_kind_name(TokenizerSourceKind kind);

struct TokenizerSource {
  TokenizerSourceKind kind = TokenizerSourceKind::kNone;
  std::string path;  // the file to build the tokenizer from (empty for kNone)
};

class LoadedModel {
 public:
  ~LoadedModel();
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;

  const std::string& path() const { return path_; }
  ModelFormat format() const { return config_.format; }
  const ModelConfig& config() const { return config_; }

  // Every weight in the architecture's table order; tied models have no "output.weight".
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  const ModelTensor* find_tensor(std::string_view name) const;  // nullptr if absent
  const ModelTensor& tensor(std::string_view name) const;       // eaq::Error if absent
  // tensor(layer_tensor_name(pattern, layer)), e.g. layer_tensor("blk.{i}.attn_q.weight", 3).
  const ModelTensor& layer_tensor(std::string_view pattern, std::int64_t layer) const;

  std::int64_t n_params() const;           // elements of all weights
  std::uint64_t weight_bytes() const;      // stored bytes of all weights
  std::uint64_t file_bytes() const;        // all model files together (headers included)
  const std::vector<std::string>& files() const { return files_; }
  // Bytes of tensors copied because the file stored them misaligned (0 for GGUF and llama2.c).
  std::uint64_t copied_bytes() const;

  const TokenizerSource& tokenizer_source() const { return tokenizer_; }
  // The Jinja chat template: GGUF tokenizer.chat_template, or tokenizer_config.json's
  // chat_template / chat_template.jinja in an HF directory. nullopt when the model has none.
  const std::optional<std::string>& chat_template() const { return chat_template_; }
  // The open GGUF file (for its embedded vocabulary); nullptr for other formats.
  const gguf::GgufFile* gguf() const { return gguf_.get(); }

 private:
  LoadedModel() = default;
  friend std::unique_ptr<LoadedModel> load_model(const std::string& path);
  void add_tensor(ModelTensor tensor);
  friend void align_tensor_data(LoadedModel& model, ModelTensor& tensor);

  std::string path_;
  ModelConfig config_;
  std::vector<ModelTensor> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
  std::vector<std::string> files_;
  std::uint64_t file_bytes_ = 0;
  TokenizerSource tokenizer_;
  std::optional<std::string> chat_template_;
  std::unique_ptr<gguf::GgufFile> gguf_;
  std::unique_ptr<safetensors::SafetensorsShards> safetensors_;
  std::unique_ptr<llama2c::Llama2cCheckpoint> llama2c_;
  std::vector<std::vector<std::uint64_t>> aligned_copies_;  // 8-byte aligned: fits every element type
};

// Which format `path` holds, decided by content: the GGUF magic; a directory with config.json;
// a .safetensors file or index.json (config.json beside it); a llama2.c header that matches the
// file size. eaq::Error naming the path when none fits.
ModelFormat detect_model_format(const std::string& path);

// Opens `path` (see detect_model_format), reads its config and maps every weight onto the
// canonical names. eaq::Error (file, tensor or key, what to do) for a missing or misshapen tensor,
// a tensor the architecture does not have, or any malformed file.
std::unique_ptr<LoadedModel> load_model(const std::string& path);

}  // namespace eaq::model
