// SafetensorsFile: reader for Hugging Face .safetensors files (mmap'd; JSON header with dtype,
// shape and data_offsets; every offset and byte count checked against the file), and
// SafetensorsShards: a model split into shards by model.safetensors.index.json (weight_map).
// Spec: https://github.com/huggingface/safetensors (format section of the README).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace eaq::safetensors {

// The dtype strings of the format ("F32", "BF16", "F8_E4M3", ...) that eaq reads.
std::optional<DType> dtype_from_safetensors_name(std::string_view name);
std::string_view safetensors_dtype_name(DType dtype);  // throws eaq::Error if the format has none

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;  // outermost first, as written (PyTorch order)
  std::uint64_t data_begin;         // data_offsets[0], relative to the end of the header
  std::uint64_t n_bytes;            // data_offsets[1] - data_offsets[0]
  const std::uint8_t* data;         // points into the mapped file
  std::int64_t n_elements() const;
};

// The parsed header of one file: tensors in file order plus __metadata__.
struct SafetensorsHeader {
  std::uint64_t header_bytes = 0;  // N, the JSON length
  std::uint64_t data_offset = 0;   // 8 + N: where data_offsets count from
  std::vector<TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses and validates a whole file held in `file_bytes`; `path` is only used in messages.
// Rejects (eaq::Error naming path, tensor and field): a header length past the end or over 100 MB,
// JSON that is not an object of tensor entries, unknown dtypes, negative or overflowing shapes,
// data_offsets that disagree with dtype × shape, overlap, leave gaps or run past the end.
// The tensors' `data` pointers point into file_bytes.
SafetensorsHeader parse_safetensors(std::string_view path, std::span<const std::uint8_t> file_bytes);

class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  std::uint64_t file_bytes() const { return file_.size_bytes(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  std::uint64_t data_offset() const { return header_.data_offset; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent

 private:
  SafetensorsFile(std::string path, MappedFile file);

  std::string path_;
  MappedFile file_;
  SafetensorsHeader header_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

// All tensors of a model directory: either one file or the shards listed by
// model.safetensors.index.json. Tensor names are unique across the set.
class SafetensorsShards {
 public:
  // `path` is a directory (model.safetensors.index.json, else model.safetensors, else its single
  // *.safetensors file), an index.json file, or one .safetensors file.
  static std::unique_ptr<SafetensorsShards> open(const std::string& path);

  // The files in load order (index order: sorted by file name).
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Every tensor of the model, in file order then tensor order.
  const std::vector<const TensorInfo*>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent
  // Which file holds `name` (empty if absent).
  std::string file_of(std::string_view name) const;
  std::uint64_t file_bytes() const;  // all files together
  // The index.json path when the model is sharded, else empty.
  const std::string& index_path() const { return index_path_; }

 private:
  void add_file(std::unique_ptr<SafetensorsFile> file, const std::map<std::string, std::string>* weight_map);

  std::string index_path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<const TensorInfo*> tensors_;
  std::map<std::string, std::pair<const TensorInfo*, std::size_t>, std::less<>> index_;
};

}  // namespace eaq::safetensors
