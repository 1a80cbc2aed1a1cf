// SafetensorsWriter: writes a .safetensors file (8-byte little-endian header length, the JSON
// header with dtype / shape / data_offsets per tensor and __metadata__, then the tensors' bytes)
// in a streaming way, so files larger than memory can be written: the tensors are declared
// first, then each one's bytes are produced in order by a callback. Written atomically (a
// temporary file in the same folder, renamed at the end). Read back by SafetensorsFile and by the
// `safetensors` Python package.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace eaq::safetensors {

struct TensorDeclaration {
  std::string name;
  DType dtype;                      // F32, F16, BF16, F8_E4M3, I8, U8, I32, ... (safetensors names)
  std::vector<std::int64_t> shape;  // outermost first
  std::uint64_t n_bytes() const;
};

// fill(index, out) writes the bytes of tensor `index` into `out` (exactly n_bytes() of it),
// in chunks: `offset_bytes` says where in the tensor `out` starts.
using TensorFill = std::function<void(std::size_t index, std::uint64_t offset_bytes, std::span<std::uint8_t> out)>;

// Writes `path`. The header is padded with spaces so the data starts 8-byte aligned (as the
// reference implementation does). eaq::Error naming the path on I/O failure, a duplicate or
// empty name, or a dtype the format cannot store.
void write_safetensors(const std::string& path, const std::vector<TensorDeclaration>& tensors,
                       const std::map<std::string, std::string>& metadata, const TensorFill& fill);

}  // namespace eaq::safetensors
