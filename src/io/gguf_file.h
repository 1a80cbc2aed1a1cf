// GgufFile: reader for GGUF v2/v3 model files (mmap'd; metadata of every value type; tensor
// table with bounds-checked offsets). Shapes are stored outermost-first (PyTorch order), the
// reverse of GGUF's ne[] listing. Spec: ggml/docs/gguf.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace eaq::gguf {

// The deepest nesting of arrays in metadata that GgufFile reads and GgufWriter writes.
inline constexpr std::uint32_t kMaxNestingDepth = 8;

enum class ValueType : std::uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view value_type_name(ValueType type);

// A metadata array: elements of one type. Numbers are widened (integers to int64/uint64 by
// signedness, floats to double); strings kept as strings. Nested arrays are supported.
struct Value;
struct Array {
  ValueType element_type;
  std::vector<Value> items;
};

struct Value {
  ValueType type;  // the type as stored in the file
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array> data;

  // Typed accessors: throw eaq::Error naming `key` when the stored type does not fit.
  std::int64_t as_int(std::string_view key) const;
  std::uint64_t as_uint(std::string_view key) const;
  double as_double(std::string_view key) const;
  bool as_bool(std::string_view key) const;
  const std::string& as_string(std::string_view key) const;
  const Array& as_array(std::string_view key) const;
};

// GGUF tensor type ids (ggml_type). Only those eaq can dequantize map to a DType.
std::optional<DType> dtype_from_ggml_type(std::uint32_t ggml_type);
std::uint32_t ggml_type_from_dtype(DType dtype);  // throws eaq::Error if GGUF has no such type

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;  // outermost first: {rows, cols} for a matrix
  std::uint64_t offset;             // relative to the data section
  std::uint64_t n_bytes;
  const std::uint8_t* data;  // points into the mapped file
  std::int64_t n_elements() const;
};

class GgufFile {
 public:
  // Maps and parses `path`. Every size, count and offset is bounds-checked against the file:
  // a truncated or corrupt file raises eaq::Error with the path, the byte offset and the field.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Parses a GGUF image held in memory (tests, fuzzing, files built on the fly); `name` stands in
  // for the path in error messages. The GgufFile keeps the bytes.
  static std::unique_ptr<GgufFile> from_bytes(std::string name, std::vector<std::uint8_t> bytes);

  const std::string& path() const { return path_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t file_bytes() const { return size_bytes_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;  // nullptr if absent
  const Value& get(std::string_view key) const;   // eaq::Error naming the key if absent

  // Convenience lookups with defaults.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<std::int64_t> get_int(std::string_view key) const;
  std::optional<double> get_double(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  explicit GgufFile(std::string path) : path_(std::move(path)) {}
  void parse();

  std::string path_;
  std::optional<MappedFile> file_;         // set when opened from a path
  std::vector<std::uint8_t> owned_bytes_;  // set when built from bytes
  const std::uint8_t* bytes_ = nullptr;
  std::size_t size_bytes_ = 0;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, std::size_t, std::less<>> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace eaq::gguf
