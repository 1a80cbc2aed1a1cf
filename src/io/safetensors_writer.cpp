#include "io/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/safetensors_file.h"

namespace eaq::safetensors {

std::uint64_t TensorDeclaration::n_bytes() const {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) n *= static_cast<std::uint64_t>(d);
  return n * traits(dtype).block_bytes / traits(dtype).block_size;
}

namespace {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) fail("cannot create '{}': {}; check the folder exists and is writable", path, std::strerror(errno));
  }
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void write(const void* data, std::size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, file_) != n) {
      fail("writing '{}' failed: {} (disk full?)", path_, std::strerror(errno));
    }
  }
  void close() {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail("closing '{}' failed: {} (disk full?)", path_, std::strerror(errno));
  }

 private:
  std::string path_;
  std::FILE* file_;
};

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorDeclaration>& tensors,
                       const std::map<std::string, std::string>& metadata, const TensorFill& fill) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const TensorDeclaration& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") fail("'{}': tensor name '{}' is not allowed", path, t.name);
    if (!names.insert(t.name).second) fail("'{}': tensor '{}' is declared twice", path, t.name);
    for (std::int64_t d : t.shape) {
      if (d < 0) fail("'{}': tensor '{}' has a negative dimension", path, t.name);
    }
    const std::uint64_t n = t.n_bytes();
    header[t.name] = {{"dtype", std::string(safetensors_dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');

  const std::string tmp = path + ".tmp";
  try {
    OutputFile out(tmp);
    std::uint8_t len[8];
    const std::uint64_t n_header = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(n_header >> (8 * i));
    out.write(len, 8);
    out.write(text.data(), text.size());
    constexpr std::uint64_t kChunkBytes = std::uint64_t{64} << 20;
    std::vector<std::uint8_t> buffer;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const std::uint64_t n = tensors[i].n_bytes();
      for (std::uint64_t done = 0; done < n; done += kChunkBytes) {
        const std::uint64_t chunk = std::min(kChunkBytes, n - done);
        buffer.assign(chunk, 0);
        fill(i, done, std::span<std::uint8_t>(buffer.data(), chunk));
        out.write(buffer.data(), chunk);
      }
    }
    out.close();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot rename '{}' to '{}': {}", tmp, path, ec.message());
}

}  // namespace eaq::safetensors
