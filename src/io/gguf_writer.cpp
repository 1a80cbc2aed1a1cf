// GgufWriter: serialization of metadata and tensor infos into one header buffer, then the tensor
// data streamed to a temporary file that is renamed over the target only when complete.
#include "io/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace eaq::gguf {

namespace {

constexpr std::uint64_t kDefaultAlignment = 32;
constexpr std::size_t kMaxTensorNameBytes = 63;  // ggml's GGML_MAX_NAME (64) minus the NUL

std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

class ByteSink {
 public:
  explicit ByteSink(std::vector<std::uint8_t>& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }

 private:
  std::vector<std::uint8_t>& out_;
};

bool is_valid_value_type(ValueType t) {
  return static_cast<std::uint32_t>(t) <= static_cast<std::uint32_t>(ValueType::kFloat64);
}

// Checks that `v` holds what its type promises and that integers fit; throws naming the key.
void check_value(const std::string& key, const Value& v, std::uint32_t depth) {
  if (!is_valid_value_type(v.type)) {
    fail("GGUF metadata '{}' has invalid value type {}", key, static_cast<std::uint32_t>(v.type));
  }
  auto unsigned_fits = [&](std::uint64_t max) {
    const auto* u = std::get_if<std::uint64_t>(&v.data);
    const auto* i = std::get_if<std::int64_t>(&v.data);
    if (u == nullptr && i == nullptr) {
      fail("GGUF metadata '{}' is declared {} but holds no integer", key, value_type_name(v.type));
    }
    const bool fits = u ? *u <= max : (*i >= 0 && static_cast<std::uint64_t>(*i) <= max);
    if (!fits) fail("GGUF metadata '{}' does not fit its type {}", key, value_type_name(v.type));
  };
  auto signed_fits = [&](std::int64_t min, std::int64_t max) {
    const auto* u = std::get_if<std::uint64_t>(&v.data);
    const auto* i = std::get_if<std::int64_t>(&v.data);
    if (u == nullptr && i == nullptr) {
      fail("GGUF metadata '{}' is declared {} but holds no integer", key, value_type_name(v.type));
    }
    const bool fits = u ? *u <= static_cast<std::uint64_t>(max) : (*i >= min && *i <= max);
    if (!fits) fail("GGUF metadata '{}' does not fit its type {}", key, value_type_name(v.type));
  };
  switch (v.type) {
    case ValueType::kUint8: unsigned_fits(0xff); break;
    case ValueType::kUint16: unsigned_fits(0xffff); break;
    case ValueType::kUint32: unsigned_fits(0xffffffffu); break;
    case ValueType::kUint64: unsigned_fits(std::numeric_limits<std::uint64_t>::max()); break;
    case ValueType::kInt8: signed_fits(-128, 127); break;
    case ValueType::kInt16: signed_fits(-32768, 32767); break;
    case ValueType::kInt32:
      signed_fits(std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
      break;
    case ValueType::kInt64:
      signed_fits(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
      break;
    case ValueType::kFloat32:
    case ValueType::kFloat64:
      if (!std::holds_alternative<double>(v.data)) {
        fail("GGUF metadata '{}' is declared {} but holds no floating-point number", key,
             value_type_name(v.type));
      }
      break;
    case ValueType::kBool:
      if (!std::holds_alternative<bool>(v.data)) fail("GGUF metadata '{}' is declared bool but holds no bool", key);
      break;
    case ValueType::kString:
      if (!std::holds_alternative<std::string>(v.data)) {
        fail("GGUF metadata '{}' is declared string but holds no string", key);
      }
      break;
    case ValueType::kArray: {
      const auto* a = std::get_if<Array>(&v.data);
      if (a == nullptr) fail("GGUF metadata '{}' is declared array but holds no array", key);
      if (depth + 1 >= kMaxNestingDepth) fail("GGUF metadata '{}' nests arrays too deeply", key);
      if (!is_valid_value_type(a->element_type)) {
        fail("GGUF metadata array '{}' has invalid element type {}", key,
             static_cast<std::uint32_t>(a->element_type));
      }
      for (const auto& item : a->items) {
        if (item.type != a->element_type) {
          fail("GGUF metadata array '{}' of {} holds an item of type {}", key,
               value_type_name(a->element_type), value_type_name(item.type));
        }
        check_value(key, item, depth + 1);
      }
      break;
    }
  }
}

void put_value(ByteSink& sink, const Value& v) {
  auto as_u64 = [&] {
    if (const auto* u = std::get_if<std::uint64_t>(&v.data)) return *u;
    return static_cast<std::uint64_t>(std::get<std::int64_t>(v.data));
  };
  auto as_i64 = [&] {
    if (const auto* i = std::get_if<std::int64_t>(&v.data)) return *i;
    return static_cast<std::int64_t>(std::get<std::uint64_t>(v.data));
  };
  switch (v.type) {
    case ValueType::kUint8: sink.put(static_cast<std::uint8_t>(as_u64())); break;
    case ValueType::kInt8: sink.put(static_cast<std::int8_t>(as_i64())); break;
    case ValueType::kUint16: sink.put(static_cast<std::uint16_t>(as_u64())); break;
    case ValueType::kInt16: sink.put(static_cast<std::int16_t>(as_i64())); break;
    case ValueType::kUint32: sink.put(static_cast<std::uint32_t>(as_u64())); break;
    case ValueType::kInt32: sink.put(static_cast<std::int32_t>(as_i64())); break;
    case ValueType::kUint64: sink.put(as_u64()); break;
    case ValueType::kInt64: sink.put(as_i64()); break;
    case ValueType::kFloat32: sink.put(static_cast<float>(std::get<double>(v.data))); break;
    case ValueType::kFloat64: sink.put(std::get<double>(v.data)); break;
    case ValueType::kBool: sink.put<std::uint8_t>(std::get<bool>(v.data) ? 1 : 0); break;
    case ValueType::kString: sink.put_string(std::get<std::string>(v.data)); break;
    case ValueType::kArray: {
      const auto& a = std::get<Array>(v.data);
      sink.put(static_cast<std::uint32_t>(a.element_type));
      sink.put<std::uint64_t>(a.items.size());
      for (const auto& item : a.items) put_value(sink, item);
      break;
    }
  }
}

Value scalar(ValueType type, std::uint64_t v) { return Value{type, v}; }
Value scalar_signed(ValueType type, std::int64_t v) { return Value{type, v}; }

// Writes all of `data` to fd, naming `path` on failure.
void write_all(int fd, const std::uint8_t* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t written = ::write(fd, data, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write '{}': {}. Check free disk space and permissions.", path, std::strerror(errno));
    }
    data += written;
    n -= static_cast<std::size_t>(written);
  }
}

}  // namespace

void GgufWriter::set_uint8(std::string_view key, std::uint8_t v) { set(key, scalar(ValueType::kUint8, v)); }
void GgufWriter::set_int8(std::string_view key, std::int8_t v) { set(key, scalar_signed(ValueType::kInt8, v)); }
void GgufWriter::set_uint16(std::string_view key, std::uint16_t v) { set(key, scalar(ValueType::kUint16, v)); }
void GgufWriter::set_int16(std::string_view key, std::int16_t v) { set(key, scalar_signed(ValueType::kInt16, v)); }
void GgufWriter::set_uint32(std::string_view key, std::uint32_t v) { set(key, scalar(ValueType::kUint32, v)); }
void GgufWriter::set_int32(std::string_view key, std::int32_t v) { set(key, scalar_signed(ValueType::kInt32, v)); }
void GgufWriter::set_uint64(std::string_view key, std::uint64_t v) { set(key, scalar(ValueType::kUint64, v)); }
void GgufWriter::set_int64(std::string_view key, std::int64_t v) { set(key, scalar_signed(ValueType::kInt64, v)); }
void GgufWriter::set_float32(std::string_view key, float v) { set(key, Value{ValueType::kFloat32, double{v}}); }
void GgufWriter::set_float64(std::string_view key, double v) { set(key, Value{ValueType::kFloat64, v}); }
void GgufWriter::set_bool(std::string_view key, bool v) { set(key, Value{ValueType::kBool, v}); }
void GgufWriter::set_string(std::string_view key, std::string v) {
  set(key, Value{ValueType::kString, std::move(v)});
}

void GgufWriter::set_string_array(std::string_view key, const std::vector<std::string>& items) {
  Array a{ValueType::kString, {}};
  a.items.reserve(items.size());
  for (const auto& s : items) a.items.push_back(Value{ValueType::kString, s});
  set(key, Value{ValueType::kArray, std::move(a)});
}

void GgufWriter::set_float32_array(std::string_view key, std::span<const float> items) {
  Array a{ValueType::kFloat32, {}};
  a.items.reserve(items.size());
  for (float f : items) a.items.push_back(Value{ValueType::kFloat32, double{f}});
  set(key, Value{ValueType::kArray, std::move(a)});
}

void GgufWriter::set_int32_array(std::string_view key, std::span<const std::int32_t> items) {
  Array a{ValueType::kInt32, {}};
  a.items.reserve(items.size());
  for (auto i : items) a.items.push_back(scalar_signed(ValueType::kInt32, i));
  set(key, Value{ValueType::kArray, std::move(a)});
}

void GgufWriter::set_uint32_array(std::string_view key, std::span<const std::uint32_t> items) {
  Array a{ValueType::kUint32, {}};
  a.items.reserve(items.size());
  for (auto u : items) a.items.push_back(scalar(ValueType::kUint32, u));
  set(key, Value{ValueType::kArray, std::move(a)});
}

void GgufWriter::set(std::string_view key, Value value) {
  std::string k(key);
  if (k.empty()) fail("GGUF metadata keys must not be empty");
  check_value(k, value, 0);
  if (k == "general.alignment") {
    const std::uint64_t a = value.as_uint(k);
    if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 20)) {
      fail("general.alignment = {} is not a power of two up to 1 MiB", a);
    }
  }
  for (auto& [existing_key, existing_value] : metadata_) {
    if (existing_key == k) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(k), std::move(value));
}

bool GgufWriter::remove(std::string_view key) {
  for (auto it = metadata_.begin(); it != metadata_.end(); ++it) {
    if (it->first == key) {
      metadata_.erase(it);
      return true;
    }
  }
  return false;
}

void GgufWriter::copy_metadata_from(const GgufFile& file) {
  for (const auto& [key, value] : file.metadata()) set(key, value);
}

void GgufWriter::add_tensor(std::string name, DType dtype, std::vector<std::int64_t> shape,
                            std::span<const std::uint8_t> bytes) {
  add_tensor_checked(PendingTensor{std::move(name), dtype, std::move(shape), bytes, {}});
}

void GgufWriter::add_tensor(std::string name, DType dtype, std::vector<std::int64_t> shape,
                            std::vector<std::uint8_t> bytes) {
  PendingTensor t{std::move(name), dtype, std::move(shape), {}, std::move(bytes)};
  // A moved std::vector keeps its buffer, so this span stays valid as tensors_ grows.
  t.bytes = std::span<const std::uint8_t>(t.owned.data(), t.owned.size());
  add_tensor_checked(std::move(t));
}

void GgufWriter::add_tensor_checked(PendingTensor t) {
  if (t.name.empty() || t.name.size() > kMaxTensorNameBytes) {
    fail("tensor name '{}' has {} bytes; GGUF tensor names need 1 to {} bytes", t.name,
         t.name.size(), kMaxTensorNameBytes);
  }
  for (const auto& other : tensors_) {
    if (other.name == t.name) fail("tensor '{}' is added twice to the GGUF file", t.name);
  }
  ggml_type_from_dtype(t.dtype);  // throws for a dtype GGUF cannot store
  if (t.shape.empty() || t.shape.size() > 4) {
    fail("tensor '{}' has {} dimensions; GGUF stores 1 to 4", t.name, t.shape.size());
  }
  std::uint64_t n_outer = 1;
  for (auto d : t.shape) {
    if (d <= 0) fail("tensor '{}' has a dimension of {}; every dimension must be positive", t.name, d);
  }
  for (std::size_t i = 0; i + 1 < t.shape.size(); ++i) n_outer *= static_cast<std::uint64_t>(t.shape[i]);
  const std::size_t row = row_bytes(t.dtype, static_cast<std::size_t>(t.shape.back()));
  if (n_outer != 0 && row > std::numeric_limits<std::uint64_t>::max() / n_outer) {
    fail("tensor '{}' is too large", t.name);
  }
  const std::uint64_t expected = n_outer * row;
  if (t.bytes.size() != expected) {
    fail("tensor '{}' ({} with {} dimensions) needs {} bytes of data but {} were given", t.name,
         dtype_name(t.dtype), t.shape.size(), expected, t.bytes.size());
  }
  tensors_.push_back(std::move(t));
}

std::uint64_t GgufWriter::alignment() const {
  for (const auto& [key, value] : metadata_) {
    if (key == "general.alignment") return value.as_uint(key);
  }
  return kDefaultAlignment;
}

std::vector<std::uint8_t> GgufWriter::header_bytes() const {
  const std::uint64_t align = alignment();
  std::vector<std::uint8_t> out;
  ByteSink sink(out);
  sink.put<std::uint32_t>(0x46554747u);  // "GGUF" read as a little-endian uint32
  sink.put<std::uint32_t>(3);
  sink.put<std::uint64_t>(tensors_.size());
  sink.put<std::uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put(static_cast<std::uint32_t>(value.type));
    put_value(sink, value);
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    sink.put_string(t.name);
    sink.put<std::uint32_t>(static_cast<std::uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) sink.put<std::uint64_t>(*it);
    sink.put<std::uint32_t>(ggml_type_from_dtype(t.dtype));
    sink.put<std::uint64_t>(offset);
    offset += align_up(t.bytes.size(), align);
  }
  out.resize(align_up(out.size(), align), 0);
  return out;
}

std::vector<std::uint8_t> GgufWriter::to_bytes() const {
  const std::uint64_t align = alignment();
  std::vector<std::uint8_t> out = header_bytes();
  for (const auto& t : tensors_) {
    out.insert(out.end(), t.bytes.begin(), t.bytes.end());
    out.resize(align_up(out.size(), align), 0);
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::uint64_t align = alignment();
  const std::vector<std::uint8_t> header = header_bytes();

  std::string temp_path = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp_path.data());
  if (fd < 0) {
    fail("cannot create a temporary file next to '{}': {}. Check that the folder exists and is "
         "writable.",
         path, std::strerror(errno));
  }
  try {
    ::fchmod(fd, 0644);
    write_all(fd, header.data(), header.size(), temp_path);
    static const std::uint8_t kZeros[4096] = {};
    for (const auto& t : tensors_) {
      write_all(fd, t.bytes.data(), t.bytes.size(), temp_path);
      std::uint64_t pad = align_up(t.bytes.size(), align) - t.bytes.size();
      while (pad > 0) {
        const std::size_t n = pad < sizeof(kZeros) ? static_cast<std::size_t>(pad) : sizeof(kZeros);
        write_all(fd, kZeros, n, temp_path);
        pad -= n;
      }
    }
    if (::fsync(fd) != 0) {
      fail("cannot flush '{}' to disk: {}", temp_path, std::strerror(errno));
    }
    if (::close(fd) != 0) {
      fd = -1;
      fail("cannot close '{}': {}", temp_path, std::strerror(errno));
    }
    fd = -1;
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      fail("cannot rename '{}' to '{}': {}", temp_path, path, std::strerror(errno));
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path.c_str());
    throw;
  }
}

}  // namespace eaq::gguf
