// GgufWriter: builds a GGUF v3 file: metadata of every value type (arrays of numbers, strings and
// arrays included), tensors of any GGUF dtype, general.alignment honoured, written atomically
// (temporary file in the same folder, then rename). Shapes are given outermost-first (PyTorch
// order, as GgufFile reports them) and written innermost-first as GGUF lists them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "io/gguf_file.h"

namespace eaq::gguf {

class GgufWriter {
 public:
  // Metadata keeps insertion order; setting a key again replaces its value in place.
  void set_uint8(std::string_view key, std::uint8_t v);
  void set_int8(std::string_view key, std::int8_t v);
  void set_uint16(std::string_view key, std::uint16_t v);
  void set_int16(std::string_view key, std::int16_t v);
  void set_uint32(std::string_view key, std::uint32_t v);
  void set_int32(std::string_view key, std::int32_t v);
  void set_uint64(std::string_view key, std::uint64_t v);
  void set_int64(std::string_view key, std::int64_t v);
  void set_float32(std::string_view key, float v);
  void set_float64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string v);
  void set_string_array(std::string_view key, const std::vector<std::string>& items);
  void set_float32_array(std::string_view key, std::span<const float> items);
  void set_int32_array(std::string_view key, std::span<const std::int32_t> items);
  void set_uint32_array(std::string_view key, std::span<const std::uint32_t> items);
  // Any value as GgufFile reads it (arrays of any element type, nested arrays). The value is
  // checked when set: an integer must fit its declared type and array items must all have the
  // array's element type, else eaq::Error naming the key.
  void set(std::string_view key, Value value);
  bool remove(std::string_view key);  // false if the key was not set
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }

  // Copies every metadata entry of `file`, in its order and with its stored types (for tools
  // that rewrite a model, e.g. quantization). Tensors are not copied.
  void copy_metadata_from(const GgufFile& file);

  // Adds a tensor. `bytes` must hold exactly the tensor's data (row_bytes of the innermost
  // dimension times the other dimensions). The span variant does not copy: the caller keeps the
  // bytes alive until write() returns. Throws eaq::Error for a duplicate or over-long name (GGUF
  // readers allow 63 bytes), 0 or more than 4 dimensions, a dtype GGUF cannot store, a row length
  // that is not a multiple of the block size, or a byte count that does not match.
  void add_tensor(std::string name, DType dtype, std::vector<std::int64_t> shape,
                  std::span<const std::uint8_t> bytes);
  void add_tensor(std::string name, DType dtype, std::vector<std::int64_t> shape,
                  std::vector<std::uint8_t> bytes);
  std::size_t n_tensors() const { return tensors_.size(); }

  // The data alignment the file will use: general.alignment when set, else 32.
  std::uint64_t alignment() const;

  // Writes the file atomically: `path` is either untouched or the complete new file.
  void write(const std::string& path) const;
  // The same bytes in memory (tests, small files).
  std::vector<std::uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::span<const std::uint8_t> bytes;
    std::vector<std::uint8_t> owned;  // backs `bytes` for the owning add_tensor
  };
  std::vector<std::uint8_t> header_bytes() const;  // header, metadata, tensor infos, padding
  void add_tensor_checked(PendingTensor tensor);

  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace eaq::gguf
