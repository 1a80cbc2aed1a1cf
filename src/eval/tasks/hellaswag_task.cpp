// hellaswag as lm-eval's tasks/hellaswag (hellaswag.yaml + utils.py): query =
// preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices =
// preprocess(ending) for each of the 4 endings, gold = label.
//
// Two layouts: rowanz's canonical hellaswag_val.jsonl (exactly lm-eval's input), and llama.cpp's
// text layout (6 lines per item: "activity_label: ctx", the gold index, 4 endings). The text
// layout has ctx_a and ctx_b already joined with ctx_b NOT capitalised, so there lm-eval's
// capitalize() cannot be applied; preprocess() is applied to the line as it stands.
#include "eval/tasks/hellaswag_task.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {

namespace {

std::string strip(std::string_view text) {
  const auto* ws = " \t\n\r\v\f";
  const auto begin = text.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(ws);
  return std::string(text.substr(begin, end - begin + 1));
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto hit = text.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(text, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(text, pos);
  return out;
}

// Python's str.capitalize() for the ASCII letters (ctx_b is English): first upper, rest lower.
std::string capitalize(std::string_view text) {
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0x80) continue;
    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

class HellaswagTask final : public LoglikelihoodTask {
 public:
  explicit HellaswagTask(const TaskOptions& options) {
    const auto path = find_data_file(options.data_dir / "hellaswag",
                                     {"hellaswag_val.jsonl", "data/hellaswag_val.jsonl", "hellaswag_val_full.txt"},
                                     "hellaswag");
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    if (path.extension() == ".jsonl") {
      read_canonical(path, options, policy);
    } else {
      read_text_layout(path, options, policy);
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return "hellaswag"; }
  const std::vector<LoglikelihoodItem>& items() const override { return items_; }

 private:
  bool full(const TaskOptions& options) const {
    return options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit;
  }

  void read_canonical(const std::filesystem::path& path, const TaskOptions& options, BadRowPolicy& policy) {
    for (const auto& record : read_jsonl(path, policy)) {
      if (full(options)) break;
      const auto& row = record.value;
      auto str = [&row](const char* key) -> const std::string* {
        if (!row.is_object()) return nullptr;
        auto it = row.find(key);
        return it != row.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
      };
      const std::string *label = str("activity_label"), *ctx_a = str("ctx_a"), *ctx_b = str("ctx_b");
      if (!label || !ctx_a || !ctx_b) {
        policy.reject(path, record.line, "needs string fields activity_label, ctx_a, ctx_b");
        continue;
      }
      const auto endings = row.find("endings");
      if (endings == row.end() || !endings->is_array() || endings->empty()) {
        policy.reject(path, record.line, "needs a non-empty array 'endings'");
        continue;
      }
      LoglikelihoodItem item;
      bool ok = true;
      for (const auto& e : *endings) {
        if (!e.is_string()) ok = false;
        else item.choices.push_back(hellaswag_preprocess(e.get<std::string>()));
      }
      // The label is an int in rowanz's file and a digit string in HF's copy.
      const auto gold = row.find("label");
      std::int64_t g = -1;
      if (gold != row.end() && gold->is_number_integer()) g = gold->get<std::int64_t>();
      if (gold != row.end() && gold->is_string() && gold->get<std::string>().size() == 1) g = gold->get<std::string>()[0] - '0';
      if (!ok || g < 0 || g >= static_cast<std::int64_t>(item.choices.size())) {
        policy.reject(path, record.line, "endings must be strings and label an index into them");
        continue;
      }
      item.id = std::to_string(items_.size());
      if (auto ind = row.find("ind"); ind != row.end() && ind->is_number_integer()) item.id = std::to_string(ind->get<std::int64_t>());
      item.context = hellaswag_preprocess(*label + ": " + *ctx_a + " " + capitalize(*ctx_b));
      item.gold = g;
      items_.push_back(std::move(item));
    }
  }

  void read_text_layout(const std::filesystem::path& path, const TaskOptions& options, BadRowPolicy& policy) {
    const auto lines = read_lines(path);
    std::size_t n = 0;
    // A trailing empty line is tolerated; anything else that is not a whole 6-line item is not.
    std::size_t count = lines.size();
    while (count > 0 && lines[count - 1].empty()) --count;
    if (count % 6 != 0) {
      policy.reject(path, static_cast<std::int64_t>(count - count % 6 + 1),
                    fmt::format("the text layout has 6 lines per item; the file's {} lines leave {} over", count, count % 6));
      count -= count % 6;
    }
    for (; n + 6 <= count; n += 6) {
      if (full(options)) break;
      const std::string& gold = lines[n + 1];
      if (gold.size() != 1 || gold[0] < '0' || gold[0] > '3') {
        policy.reject(path, static_cast<std::int64_t>(n + 2), fmt::format("expected the gold index 0-3, found '{}'", gold));
        continue;
      }
      LoglikelihoodItem item;
      item.id = std::to_string(n / 6);
      item.context = hellaswag_preprocess(lines[n]);
      for (std::size_t k = 0; k < 4; ++k) item.choices.push_back(hellaswag_preprocess(lines[n + 2 + k]));
      item.gold = gold[0] - '0';
      items_.push_back(std::move(item));
    }
  }

  std::vector<LoglikelihoodItem> items_;
};

}  // namespace

std::string hellaswag_preprocess(std::string_view text) {
  std::string out = replace_all(strip(text), " [title]", ". ");
  // re.sub("\\[.*?\\]", "", text): '.' does not match a newline (there are none in one field).
  std::string no_brackets;
  std::size_t pos = 0;
  while (pos < out.size()) {
    const auto open = out.find('[', pos);
    if (open == std::string::npos) break;
    const auto close = out.find(']', open + 1);
    if (close == std::string::npos || out.find('\n', open) < close) {
      no_brackets.append(out, pos, open + 1 - pos);
      pos = open + 1;
      continue;
    }
    no_brackets.append(out, pos, open - pos);
    pos = close + 1;
  }
  no_brackets.append(out, pos);
  return replace_all(std::move(no_brackets), "  ", " ");
}

std::vector<TaskEntry> hellaswag_task_entries() {
  return {{"hellaswag", TaskKind::kLoglikelihood, "HellaSwag validation (10042), 0-shot, acc / acc_norm",
           [](const TaskOptions& o) { return std::make_unique<HellaswagTask>(o); }}};
}

}  // namespace eaq::eval
