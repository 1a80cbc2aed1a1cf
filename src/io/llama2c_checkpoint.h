// Llama2cCheckpoint: karpathy/llama2.c legacy .bin checkpoints (version 0: a 7 × int32 header, then
// float32 arrays in a fixed order; see ../shared/FORMATS.md). The arrays are exposed as stacked
// views into the mapping (e.g. "wq" with shape {n_layers, dim, dim}); model/ slices them per layer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"

namespace eaq::llama2c {

struct Llama2cHeader {
  std::int64_t dim = 0;
  std::int64_t hidden_dim = 0;
  std::int64_t n_layers = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;
  std::int64_t vocab_size = 0;  // always positive here; the sign in the file is `shared_classifier`
  std::int64_t seq_len = 0;
  bool shared_classifier = true;  // a negative vocab_size in the file means a separate wcls
  std::int64_t head_size() const { return dim / n_heads; }
  std::int64_t kv_dim() const { return n_kv_heads * head_size(); }
  // The exact file size the header implies.
  std::uint64_t expected_file_bytes() const;
};

// Parses and checks the header against the file size: positive fields within sane bounds,
// n_heads divides dim, n_kv_heads divides n_heads, and the arrays fill the file exactly.
// eaq::Error (naming `path` and the field) otherwise.
Llama2cHeader parse_llama2c_header(std::string_view path, std::span<const std::uint8_t> file_bytes);

// True if the bytes look like a llama2.c checkpoint (the header parses and matches the size);
// used to detect the format by content.
bool looks_like_llama2c_checkpoint(std::span<const std::uint8_t> file_bytes);

struct Llama2cArray {
  std::string name;                 // run.c's field name: "wq", "rms_att_weight", ...
  std::vector<std::int64_t> shape;  // outermost first; per-layer arrays lead with n_layers
  std::uint64_t offset;             // byte offset in the file
  const float* data;                // f32 values in the mapping (offset is a multiple of 4)
  std::uint64_t n_bytes;
};

class Llama2cCheckpoint {
 public:
  static std::unique_ptr<Llama2cCheckpoint> open(const std::string& path);

  const std::string& path() const { return path_; }
  std::uint64_t file_bytes() const { return file_.size_bytes(); }
  const Llama2cHeader& header() const { return header_; }
  // In file order; freq_cis_real/imag are included (run.c ignores them), wcls only if not shared.
  const std::vector<Llama2cArray>& arrays() const { return arrays_; }
  const Llama2cArray* find_array(std::string_view name) const;  // nullptr if absent

 private:
  Llama2cCheckpoint(std::string path, MappedFile file);

  std::string path_;
  MappedFile file_;
  Llama2cHeader header_;
  std::vector<Llama2cArray> arrays_;
};

}  // namespace eaq::llama2c
