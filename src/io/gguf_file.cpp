// GgufFile: parsing with a bounds-checked cursor; every count is checked against the bytes left
// before anything is allocated, so a corrupt header cannot cause an unbounded allocation.
#include "io/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace eaq::gguf {

namespace {

class Cursor {
 public:
  Cursor(const std::string& path, const std::uint8_t* data, std::size_t size)
      : path_(path), data_(data), size_(size) {}

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return size_ - offset_; }

  void need(std::size_t n, std::string_view what) const {
    if (n > remaining()) {
      fail("'{}' is truncated or corrupt: reading {} at byte offset {} needs {} bytes but only {} "
           "remain (file size {}). Re-download or re-convert the model file.",
           path_, what, offset_, n, remaining(), size_);
    }
  }

  template <typename T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view what) {
    auto len = read<std::uint64_t>(what);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(data_ + offset_), len);
    offset_ += len;
    return s;
  }

  [[noreturn]] void error(std::size_t at, const std::string& message) const {
    fail("'{}': {} (at byte offset {}). The file is not a valid GGUF model; re-download or "
         "re-convert it.",
         path_, message, at);
  }

 private:
  const std::string& path_;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

std::size_t min_encoded_bytes(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    case ValueType::kString: return 8;
    case ValueType::kArray: return 12;
  }
  return 1;
}

Value read_value(Cursor& c, ValueType type, const std::string& key, std::uint32_t depth) {
  Value v{type, std::uint64_t{0}};
  switch (type) {
    case ValueType::kUint8: v.data = std::uint64_t{c.read<std::uint8_t>(key)}; break;
    case ValueType::kInt8: v.data = std::int64_t{c.read<std::int8_t>(key)}; break;
    case ValueType::kUint16: v.data = std::uint64_t{c.read<std::uint16_t>(key)}; break;
    case ValueType::kInt16: v.data = std::int64_t{c.read<std::int16_t>(key)}; break;
    case ValueType::kUint32: v.data = std::uint64_t{c.read<std::uint32_t>(key)}; break;
    case ValueType::kInt32: v.data = std::int64_t{c.read<std::int32_t>(key)}; break;
    case ValueType::kUint64: v.data = c.read<std::uint64_t>(key); break;
    case ValueType::kInt64: v.data = c.read<std::int64_t>(key); break;
    case ValueType::kFloat32: v.data = double{c.read<float>(key)}; break;
    case ValueType::kFloat64: v.data = c.read<double>(key); break;
    case ValueType::kBool: {
      std::size_t at = c.offset();
      auto b = c.read<std::uint8_t>(key);
      if (b > 1) c.error(at, "metadata '" + key + "' is a bool with value " + std::to_string(b));
      v.data = b == 1;
      break;
    }
    case ValueType::kString: v.data = c.read_string(key); break;
    case ValueType::kArray: {
      std::size_t at = c.offset();
      if (depth >= kMaxNestingDepth) c.error(at, "metadata '" + key + "' nests arrays too deeply");
      auto raw_type = c.read<std::uint32_t>(key);
      if (raw_type > static_cast<std::uint32_t>(ValueType::kFloat64)) {
        c.error(at, "metadata array '" + key + "' has unknown element type " + std::to_string(raw_type));
      }
      auto element_type = static_cast<ValueType>(raw_type);
      auto count = c.read<std::uint64_t>(key);
      if (count > c.remaining() / min_encoded_bytes(element_type)) {
        c.error(at, "metadata array '" + key + "' claims " + std::to_string(count) +
                        " elements, more than the file can hold");
      }
      Array array{element_type, {}};
      array.items.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        array.items.push_back(read_value(c, element_type, key, depth + 1));
      }
      v.data = std::move(array);
      break;
    }
    default:
      c.error(c.offset(), "metadata '" + key + "' has unknown value type " +
                              std::to_string(static_cast<std::uint32_t>(type)));
  }
  return v;
}

struct GgmlTypeEntry {
  std::uint32_t ggml_type;
  DType dtype;
};
// ggml_type ids from ggml.h.
constexpr GgmlTypeEntry kGgmlTypes[] = {
    {0, DType::F32},   {1, DType::F16},   {2, DType::Q4_0},  {3, DType::Q4_1},
    {6, DType::Q5_0},  {7, DType::Q5_1},  {8, DType::Q8_0},  {10, DType::Q2_K},
    {11, DType::Q3_K}, {12, DType::Q4_K}, {13, DType::Q5_K}, {14, DType::Q6_K},
    {15, DType::Q8_K}, {24, DType::I8},   {25, DType::I16},  {26, DType::I32},
    {27, DType::I64},  {28, DType::F64},  {30, DType::BF16},
    // eaq's own formats (core/eaq_quant_blocks.h), written by `eaq quantize`: ids far above
    // ggml's, so llama.cpp and the gguf package refuse such files instead of misreading them.
    {1024, DType::I4S_G32}, {1025, DType::I4S_G64}, {1026, DType::I4S_G128},
    {1027, DType::I4Z_G32}, {1028, DType::I4Z_G64}, {1029, DType::I4Z_G128},
    {1030, DType::NF4},     {1031, DType::I8_CH},   {1032, DType::I8_CH_DYN},
    {1033, DType::F8_E4M3_CH},
};

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kUint8: return "uint8";
    case ValueType::kInt8: return "int8";
    case ValueType::kUint16: return "uint16";
    case ValueType::kInt16: return "int16";
    case ValueType::kUint32: return "uint32";
    case ValueType::kInt32: return "int32";
    case ValueType::kFloat32: return "float32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kUint64: return "uint64";
    case ValueType::kInt64: return "int64";
    case ValueType::kFloat64: return "float64";
  }
  return "unknown";
}

std::optional<DType> dtype_from_ggml_type(std::uint32_t ggml_type) {
  for (const auto& e : kGgmlTypes) {
    if (e.ggml_type == ggml_type) return e.dtype;
  }
  return std::nullopt;
}

std::uint32_t ggml_type_from_dtype(DType dtype) {
  for (const auto& e : kGgmlTypes) {
    if (e.dtype == dtype) return e.ggml_type;
  }
  fail("dtype {} has no GGUF tensor type; choose another output precision", dtype_name(dtype));
}

std::int64_t Value::as_int(std::string_view key) const {
  if (auto* u = std::get_if<std::uint64_t>(&data)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail("GGUF metadata '{}' = {} does not fit a signed 64-bit integer", key, *u);
    }
    return static_cast<std::int64_t>(*u);
  }
  if (auto* i = std::get_if<std::int64_t>(&data)) return *i;
  fail("GGUF metadata '{}' is {}, expected an integer", key, value_type_name(type));
}

std::uint64_t Value::as_uint(std::string_view key) const {
  if (auto* u = std::get_if<std::uint64_t>(&data)) return *u;
  if (auto* i = std::get_if<std::int64_t>(&data)) {
    if (*i < 0) fail("GGUF metadata '{}' = {} is negative, expected an unsigned integer", key, *i);
    return static_cast<std::uint64_t>(*i);
  }
  fail("GGUF metadata '{}' is {}, expected an unsigned integer", key, value_type_name(type));
}

double Value::as_double(std::string_view key) const {
  if (auto* d = std::get_if<double>(&data)) return *d;
  if (auto* u = std::get_if<std::uint64_t>(&data)) return static_cast<double>(*u);
  if (auto* i = std::get_if<std::int64_t>(&data)) return static_cast<double>(*i);
  fail("GGUF metadata '{}' is {}, expected a number", key, value_type_name(type));
}

bool Value::as_bool(std::string_view key) const {
  if (auto* b = std::get_if<bool>(&data)) return *b;
  fail("GGUF metadata '{}' is {}, expected a bool", key, value_type_name(type));
}

const std::string& Value::as_string(std::string_view key) const {
  if (auto* s = std::get_if<std::string>(&data)) return *s;
  fail("GGUF metadata '{}' is {}, expected a string", key, value_type_name(type));
}

const Array& Value::as_array(std::string_view key) const {
  if (auto* a = std::get_if<Array>(&data)) return *a;
  fail("GGUF metadata '{}' is {}, expected an array", key, value_type_name(type));
}

std::int64_t TensorInfo::n_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile(path));
  f->file_.emplace(path);
  f->bytes_ = f->file_->data();
  f->size_bytes_ = f->file_->size_bytes();
  f->parse();
  return f;
}

std::unique_ptr<GgufFile> GgufFile::from_bytes(std::string name, std::vector<std::uint8_t> bytes) {
  std::unique_ptr<GgufFile> f(new GgufFile(std::move(name)));
  f->owned_bytes_ = std::move(bytes);
  f->bytes_ = f->owned_bytes_.data();
  f->size_bytes_ = f->owned_bytes_.size();
  f->parse();
  return f;
}

void GgufFile::parse() {
  Cursor c(path_, bytes_, size_bytes_);
  if (size_bytes_ < 4 || std::memcmp(bytes_, "GGUF", 4) != 0) {
    fail("'{}' is not a GGUF file: it does not start with the magic 'GGUF'. Pass a .gguf model, "
         "a safetensors model directory or a llama2.c .bin checkpoint.",
         path_);
  }
  c.read<std::uint32_t>("magic");
  std::size_t version_at = c.offset();
  version_ = c.read<std::uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    std::string hint;
    if (version_ == 1) hint = "; GGUF v1 is obsolete, re-convert the model";
    if ((version_ & 0xffffu) == 0 && version_ != 0) hint = "; this looks like a big-endian GGUF, which eaq does not read";
    c.error(version_at, "unsupported GGUF version " + std::to_string(version_) +
                            " (eaq reads versions 2 and 3)" + hint);
  }
  std::size_t counts_at = c.offset();
  auto n_tensors = c.read<std::uint64_t>("tensor count");
  auto n_kv = c.read<std::uint64_t>("metadata count");
  // Each tensor info needs at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
  // each metadata pair at least 8 + 4 + 1.
  if (n_tensors > c.remaining() / 24 || n_kv > c.remaining() / 13) {
    c.error(counts_at, "header claims " + std::to_string(n_tensors) + " tensors and " +
                           std::to_string(n_kv) + " metadata entries, more than the file can hold");
  }

  metadata_.reserve(n_kv);
  for (std::uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("metadata key");
    std::size_t type_at = c.offset();
    auto raw_type = c.read<std::uint32_t>("metadata value type");
    if (raw_type > static_cast<std::uint32_t>(ValueType::kFloat64)) {
      c.error(type_at, "metadata '" + key + "' has unknown value type " + std::to_string(raw_type));
    }
    Value v = read_value(c, static_cast<ValueType>(raw_type), key, 0);
    if (metadata_index_.count(key)) c.error(type_at, "metadata key '" + key + "' appears twice");
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(v));
  }

  if (const Value* a = find("general.alignment")) {
    if (!std::holds_alternative<std::uint64_t>(a->data) && !std::holds_alternative<std::int64_t>(a->data)) {
      fail("'{}': metadata general.alignment is a {}, expected an unsigned integer; the file is "
           "corrupt, re-convert it",
           path_, value_type_name(a->type));
    }
    const std::int64_t raw_alignment = std::holds_alternative<std::int64_t>(a->data)
                                           ? std::get<std::int64_t>(a->data)
                                           : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                                 std::get<std::uint64_t>(a->data), 1u << 31));
    if (raw_alignment <= 0 || (raw_alignment & (raw_alignment - 1)) != 0 || raw_alignment > (1 << 20)) {
      fail("'{}': general.alignment = {} is not a power of two up to 1 MiB; the file is corrupt, "
           "re-convert it",
           path_, raw_alignment);
    }
    alignment_ = static_cast<std::uint64_t>(raw_alignment);
  }

  struct RawTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint32_t ggml_type;
    std::uint64_t offset;
    std::size_t info_at;
  };
  std::vector<RawTensor> raw;
  raw.reserve(n_tensors);
  for (std::uint64_t i = 0; i < n_tensors; ++i) {
    RawTensor t;
    t.info_at = c.offset();
    t.name = c.read_string("tensor name");
    auto n_dims = c.read<std::uint32_t>("tensor n_dims");
    if (n_dims == 0 || n_dims > 4) {
      c.error(t.info_at, "tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    }
    std::vector<std::int64_t> ne(n_dims);
    for (auto& d : ne) {
      auto dim = c.read<std::uint64_t>("tensor dimension");
      if (dim == 0 || dim > (std::uint64_t{1} << 40)) {
        c.error(t.info_at, "tensor '" + t.name + "' has dimension " + std::to_string(dim));
      }
      d = static_cast<std::int64_t>(dim);
    }
    t.shape.assign(ne.rbegin(), ne.rend());  // GGUF lists innermost first
    t.ggml_type = c.read<std::uint32_t>("tensor type");
    t.offset = c.read<std::uint64_t>("tensor offset");
    raw.push_back(std::move(t));
  }
  data_offset_ = (c.offset() + alignment_ - 1) / alignment_ * alignment_;
  // A file with no tensors (vocabulary only) may end right after its metadata, unpadded.
  if (data_offset_ > size_bytes_ && !raw.empty()) {
    c.error(c.offset(), "the tensor data section would start past the end of the file");
  }
  const std::uint64_t data_bytes = data_offset_ > size_bytes_ ? 0 : size_bytes_ - data_offset_;

  tensors_.reserve(raw.size());
  for (auto& t : raw) {
    auto dtype = dtype_from_ggml_type(t.ggml_type);
    if (!dtype) {
      c.error(t.info_at, "tensor '" + t.name + "' has GGML type " + std::to_string(t.ggml_type) +
                             ", which eaq does not support");
    }
    const auto& tr = traits(*dtype);
    std::uint64_t n_elements = 1;
    for (auto d : t.shape) {
      if (n_elements > (std::uint64_t{1} << 48) / static_cast<std::uint64_t>(d)) {
        c.error(t.info_at, "tensor '" + t.name + "' has too many elements");
      }
      n_elements *= static_cast<std::uint64_t>(d);
    }
    if (t.shape.back() % static_cast<std::int64_t>(tr.block_size) != 0) {
      c.error(t.info_at, "tensor '" + t.name + "' row length " + std::to_string(t.shape.back()) +
                             " is not a multiple of the " + std::string(tr.name) + " block size " +
                             std::to_string(tr.block_size));
    }
    // Per row (a format may carry a per-row header, e.g. a channel scale).
    std::uint64_t n_bytes = n_elements / static_cast<std::uint64_t>(t.shape.back()) *
                            (tr.row_header_bytes + static_cast<std::uint64_t>(t.shape.back()) / tr.block_size * tr.block_bytes);
    if (t.offset % alignment_ != 0) {
      c.error(t.info_at, "tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                             " is not aligned to " + std::to_string(alignment_));
    }
    if (t.offset > data_bytes || n_bytes > data_bytes - t.offset) {
      c.error(t.info_at, "tensor '" + t.name + "' spans bytes [" + std::to_string(t.offset) + ", " +
                             std::to_string(t.offset + n_bytes) + ") of the data section, which has only " +
                             std::to_string(data_bytes) + " bytes");
    }
    if (tensor_index_.count(t.name)) c.error(t.info_at, "tensor name '" + t.name + "' appears twice");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(TensorInfo{t.name, *dtype, t.shape, t.offset, n_bytes,
                                  bytes_ + data_offset_ + t.offset});
  }
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& GgufFile::get(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) {
    fail("'{}' lacks the GGUF metadata key '{}', which eaq needs; the file may come from an older "
         "or unusual converter — re-convert it with a recent llama.cpp convert_hf_to_gguf.py",
         path_, key);
  }
  return *v;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  return v->as_string(key);
}
std::optional<std::int64_t> GgufFile::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  return v->as_int(key);
}
std::optional<double> GgufFile::get_double(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  return v->as_double(key);
}
std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  return v->as_bool(key);
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace eaq::gguf
