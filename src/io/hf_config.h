// HfConfig: a Hugging Face config.json (or one of its nested objects such as `text_config`) with
// typed lookups whose errors name the file and the key. Mapping onto eaq's ModelConfig lives in
// model/model_config_hf.cpp, so io stays below model.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::io {

class HfConfig {
 public:
  // Reads and parses `path` (at most 16 MB); eaq::Error if unreadable, not JSON or not an object.
  static HfConfig open(const std::string& path);
  // Parses JSON text held in memory; `path` is used in messages only.
  static HfConfig parse(const std::string& path, std::string_view text);

  const std::string& path() const { return path_; }
  // "config.json" or "config.json: text_config" — where a key lives, for messages.
  std::string where() const;
  const nlohmann::json& json() const { return json_; }

  // A key that is absent or JSON null counts as absent.
  bool has(std::string_view key) const;
  // The nested object `key` (e.g. text_config, rope_scaling), if present.
  std::optional<HfConfig> object(std::string_view key) const;

  // Required lookups: eaq::Error naming the file and key when absent or of the wrong type.
  std::int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;
  std::string get_string(std::string_view key) const;

  // Optional lookups: nullopt when absent; eaq::Error when present with the wrong type.
  std::optional<std::int64_t> find_int(std::string_view key) const;
  std::optional<double> find_double(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  // An integer or a list of integers (e.g. eos_token_id); empty when absent.
  std::vector<std::int64_t> find_int_list(std::string_view key) const;
  std::vector<std::string> find_string_list(std::string_view key) const;

 private:
  HfConfig(std::string path, std::string scope, nlohmann::json json)
      : path_(std::move(path)), scope_(std::move(scope)), json_(std::move(json)) {}
  const nlohmann::json* lookup(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, std::string_view expected) const;

  std::string path_;
  std::string scope_;  // "" at top level, else the dotted path of the nested object
  nlohmann::json json_;
};

}  // namespace eaq::io
