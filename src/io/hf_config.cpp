// HfConfig: typed access to config.json values with messages that name file and key.
#include "io/hf_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace eaq::io {

namespace {
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

// nlohmann's messages quote the bytes they choked on; keep messages printable ASCII.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (ch >= 0x20 && ch < 0x7f) {
      out.push_back(static_cast<char>(ch));
    } else {
      out += fmt::format("\\x{:02x}", ch);
    }
  }
  return out;
}
}

HfConfig HfConfig::open(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read '{}': {}. A safetensors model directory needs its config.json.", path, ec.message());
  if (size > kMaxConfigBytes) fail("'{}' is {} bytes; a config.json over 16 MB is not a model config", path, size);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}'. Check that the file is readable.", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(path, ss.str());
}

HfConfig HfConfig::parse(const std::string& path, std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("'{}' is not valid JSON ({}). Re-download the model's config.json.", path, printable(e.what()));
  }
  if (!j.is_object()) fail("'{}' is a JSON {}, expected an object of model settings", path, j.type_name());
  return HfConfig(path, "", std::move(j));
}

std::string HfConfig::where() const { return scope_.empty() ? path_ : path_ + " (in '" + scope_ + "')"; }

const nlohmann::json* HfConfig::lookup(std::string_view key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

void HfConfig::wrong_type(std::string_view key, std::string_view expected) const {
  fail("'{}': key '{}' is {} ({}), expected {}", where(), key, lookup(key)->type_name(),
       lookup(key)->dump(), expected);
}

bool HfConfig::has(std::string_view key) const { return lookup(key) != nullptr; }

std::optional<HfConfig> HfConfig::object(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) wrong_type(key, "an object");
  return HfConfig(path_, scope_.empty() ? std::string(key) : scope_ + "." + std::string(key), *v);
}

std::optional<std::int64_t> HfConfig::find_int(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      wrong_type(key, "an integer that fits 64 bits");
    }
    return v->get<std::int64_t>();
  }
  // Some exporters write integers as 4096.0.
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d)) && d >= -9e15 && d <= 9e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  wrong_type(key, "an integer");
}

std::optional<double> HfConfig::find_double(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number");
  return v->get<double>();
}

std::optional<std::string> HfConfig::find_string(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::optional<bool> HfConfig::find_bool(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "true or false");
  return v->get<bool>();
}

std::vector<std::int64_t> HfConfig::find_int_list(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return {};
  if (v->is_number_integer()) return {v->get<std::int64_t>()};
  if (!v->is_array()) wrong_type(key, "an integer or a list of integers");
  std::vector<std::int64_t> out;
  for (const auto& item : *v) {
    if (!item.is_number_integer()) wrong_type(key, "an integer or a list of integers");
    out.push_back(item.get<std::int64_t>());
  }
  return out;
}

std::vector<std::string> HfConfig::find_string_list(std::string_view key) const {
  const auto* v = lookup(key);
  if (v == nullptr) return {};
  if (!v->is_array()) wrong_type(key, "a list of strings");
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) wrong_type(key, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::int64_t HfConfig::get_int(std::string_view key) const {
  if (auto v = find_int(key)) return *v;
  fail("'{}' lacks the key '{}', which eaq needs. Re-download the model's config.json.", where(), key);
}

double HfConfig::get_double(std::string_view key) const {
  if (auto v = find_double(key)) return *v;
  fail("'{}' lacks the key '{}', which eaq needs. Re-download the model's config.json.", where(), key);
}

std::string HfConfig::get_string(std::string_view key) const {
  if (auto v = find_string(key)) return *v;
  fail("'{}' lacks the key '{}', which eaq needs. Re-download the model's config.json.", where(), key);
}

}  // namespace eaq::io
