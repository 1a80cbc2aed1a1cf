// Dataset text formats (csv, tsv, jsonl, lines) and the malformed-row policy.
#include "eval/dataset_readers.h"

#include <fmt/format.h>
#include <fmt/std.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace eaq::eval {

void BadRowPolicy::reject(const std::filesystem::path& file, std::int64_t line, std::string_view why) {
  if (!skip_bad_) {
    fail("{}:{}: {}. Fix the row, or pass --skip-bad to skip malformed rows (they are counted)",
         file.string(), line, why);
  }
  ++skipped_;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("dataset file {} does not exist or is not a file", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open dataset file {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("error reading dataset file {}", path.string());
  return std::move(text).str();
}

std::vector<TextRecord> read_csv(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  std::vector<TextRecord> records;
  std::size_t i = 0;
  std::int64_t line = 1;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM
  while (i < text.size()) {
    TextRecord record;
    record.line = line;
    std::string field;
    bool in_quotes = false;
    bool record_done = false;
    while (!record_done) {
      if (i >= text.size()) {
        if (in_quotes) fail("{}:{}: unterminated quoted field (a '\"' opens a field that never closes)", path.string(), record.line);
        record.fields.push_back(std::move(field));
        break;
      }
      const char c = text[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
          } else {
            in_quotes = false;
            ++i;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        continue;
      }
      if (c == '"' && field.empty()) {
        in_quotes = true;
        ++i;
      } else if (c == ',') {
        record.fields.push_back(std::move(field));
        field.clear();
        ++i;
      } else if (c == '\n' || c == '\r') {
        record.fields.push_back(std::move(field));
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        record_done = true;
      } else {
        field += c;  // a quote inside an unquoted field is literal, as Python's csv
        ++i;
      }
    }
    // Python's csv skips blank lines.
    if (record.fields.size() == 1 && record.fields[0].empty()) continue;
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::size_t stop = end;
    if (stop > begin && text[stop - 1] == '\r') --stop;
    lines.emplace_back(text, begin, stop - begin);
    begin = end + 1;
  }
  return lines;
}

std::vector<TextRecord> read_tsv(const std::filesystem::path& path) {
  std::vector<TextRecord> records;
  const auto lines = read_lines(path);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    TextRecord record;
    record.line = static_cast<std::int64_t>(n + 1);
    std::size_t begin = 0;
    while (true) {
      const std::size_t tab = lines[n].find('\t', begin);
      record.fields.emplace_back(lines[n], begin, tab == std::string::npos ? std::string::npos : tab - begin);
      if (tab == std::string::npos) break;
      begin = tab + 1;
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<JsonRecord> read_jsonl(const std::filesystem::path& path, BadRowPolicy& policy) {
  std::vector<JsonRecord> records;
  const auto lines = read_lines(path);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (lines[n].find_first_not_of(" \t") == std::string::npos) continue;
    auto value = nlohmann::ordered_json::parse(lines[n], nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      policy.reject(path, static_cast<std::int64_t>(n + 1), "not a JSON value");
      continue;
    }
    records.push_back({static_cast<std::int64_t>(n + 1), std::move(value)});
  }
  return records;
}

std::filesystem::path find_data_file(const std::filesystem::path& dir,
                                     std::initializer_list<std::string_view> candidates, std::string_view task) {
  std::string tried;
  for (auto candidate : candidates) {
    const auto path = dir / std::filesystem::path(std::string(candidate));
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path;
    tried += fmt::format("\n  {}", path.string());
  }
  fail("no data for task {} under --data-dir {}; tried:{}\nGet the files with `eaq data pull {}` or point "
       "--data-dir at a folder in the layout of docs/eval.md",
       task, dir.string(), tried, task);
}

}  // namespace eaq::eval
