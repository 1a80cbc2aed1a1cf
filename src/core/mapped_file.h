// MappedFile: a read-only memory map of a whole file (model weights are never copied on load).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace eaq {

class MappedFile {
 public:
  // Throws eaq::Error naming the path if the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const std::uint8_t* data() const { return data_; }
  std::size_t size_bytes() const { return size_bytes_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_bytes_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_bytes_ = 0;
};

}  // namespace eaq
