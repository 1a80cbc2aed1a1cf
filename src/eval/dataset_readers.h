// Readers for the text formats benchmark datasets come in (csv with RFC 4180 quoting, tsv, jsonl,
// line-oriented text), each record tagged with the line it starts on; and the policy for
// malformed rows: stop with an eaq::Error naming file and line, or (--skip-bad) skip and count.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::eval {

// What to do with a malformed row: throw (default) or count and skip.
class BadRowPolicy {
 public:
  explicit BadRowPolicy(bool skip_bad) : skip_bad_(skip_bad) {}
  // Throws eaq::Error "<file>:<line>: <why>" unless skipping, in which case the row is counted.
  void reject(const std::filesystem::path& file, std::int64_t line, std::string_view why);
  std::int64_t skipped() const { return skipped_; }

 private:
  bool skip_bad_;
  std::int64_t skipped_ = 0;
};

struct TextRecord {
  std::int64_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct JsonRecord {
  std::int64_t line = 0;
  nlohmann::ordered_json value;  // ordered: some datasets keep meaning in key order (mc_task.json)
};

// The whole file; eaq::Error saying which file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// CSV as RFC 4180 (and Python's csv module): fields separated by `,`, quoted with `"`, `""` an
// escaped quote, quoted fields may hold newlines; \r\n or \n line ends. An unterminated quote is
// an eaq::Error naming the line where the record starts (nothing after it can be trusted).
std::vector<TextRecord> read_csv(const std::filesystem::path& path);

// Tab-separated, no quoting (GLUE's tsv files); empty lines are skipped.
std::vector<TextRecord> read_tsv(const std::filesystem::path& path);

// One JSON value per non-empty line; a line that is not JSON goes to `policy`.
std::vector<JsonRecord> read_jsonl(const std::filesystem::path& path, BadRowPolicy& policy);

// The lines of a text file without their line ends (\n or \r\n).
std::vector<std::string> read_lines(const std::filesystem::path& path);

// The first of `dir / candidate` that exists; eaq::Error listing every path tried and how to get the
// data (`eaq data pull`, --data-dir) when none does.
std::filesystem::path find_data_file(const std::filesystem::path& dir,
                                     std::initializer_list<std::string_view> candidates, std::string_view task);

}  // namespace eaq::eval
