// Test helper: writes small .safetensors files (and raw, deliberately broken ones) into a
// per-test temporary directory, following the format's spec byte for byte.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace eaq::testing {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ...
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
};

inline std::vector<std::uint8_t> f32_bytes(const std::vector<float>& values) {
  std::vector<std::uint8_t> b(values.size() * 4);
  std::memcpy(b.data(), values.data(), b.size());
  return b;
}

inline std::size_t safetensors_element_bytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  return 1;
}

// An entry of `dtype` and `shape` filled with a deterministic byte pattern.
inline SafetensorsEntry patterned_entry(const std::string& name, const std::string& dtype,
                                        std::vector<std::int64_t> shape) {
  std::size_t n = safetensors_element_bytes(dtype);
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>((i * 7 + name.size()) & 0x3f);
  return {name, dtype, std::move(shape), std::move(bytes)};
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The file bytes for a JSON header text followed by `data` (header length = text size).
inline std::vector<std::uint8_t> safetensors_bytes(const std::string& header_text, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out(8);
  std::uint64_t n = header_text.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), header_text.begin(), header_text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A valid file: entries stored back to back in the given order, header padded to 8 bytes.
inline std::vector<std::uint8_t> safetensors_bytes(const std::vector<SafetensorsEntry>& entries,
                                                   const nlohmann::json& metadata = nullptr) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  std::vector<std::uint8_t> data;
  for (const auto& e : entries) {
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {data.size(), data.size() + e.bytes.size()}}};
    data.insert(data.end(), e.bytes.begin(), e.bytes.end());
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  return safetensors_bytes(text, data);
}

inline std::filesystem::path fresh_test_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("eaq_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace eaq::testing
