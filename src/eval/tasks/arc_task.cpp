// arc_easy / arc_challenge as lm-eval's tasks/arc/arc_easy.yaml: test split, doc_to_text
// "Question: {{question}}\nAnswer:", doc_to_choice choices.text, target
// choices.label.index(answerKey) (labels may be letters or digits).
#include "eval/tasks/arc_task.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {

namespace {

class ArcTask final : public LoglikelihoodTask {
 public:
  ArcTask(std::string name, std::string_view subset, const TaskOptions& options) : name_(std::move(name)) {
    // Our copies (arc/ARC-Easy-Test.jsonl) and the AI2 zip's layout (ARC-V1-Feb2018-2/ARC-Easy/).
    const std::string file = fmt::format("ARC-{}-Test.jsonl", subset);
    const auto path = find_data_file(options.data_dir / "arc",
                                     {file, fmt::format("ARC-{}/{}", subset, file),
                                      fmt::format("ARC-V1-Feb2018-2/ARC-{}/{}", subset, file)},
                                     name_);
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    for (const auto& record : read_jsonl(path, policy)) {
      if (options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit) break;
      std::string why;
      auto item = parse(record.value, why);
      if (!item) {
        policy.reject(path, record.line, why);
        continue;
      }
      items_.push_back(std::move(*item));
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return name_; }
  const std::vector<LoglikelihoodItem>& items() const override { return items_; }

 private:
  static std::optional<LoglikelihoodItem> parse(const nlohmann::ordered_json& row, std::string& why) {
    if (!row.is_object()) return why = "a row must be a JSON object", std::nullopt;
    const auto question = row.find("question");
    if (question == row.end() || !question->is_object()) return why = "missing object field 'question'", std::nullopt;
    const auto stem = question->find("stem");
    const auto choices = question->find("choices");
    if (stem == question->end() || !stem->is_string()) return why = "missing string field 'question.stem'", std::nullopt;
    if (choices == question->end() || !choices->is_array() || choices->empty()) {
      return why = "missing non-empty array 'question.choices'", std::nullopt;
    }
    const auto key = row.find("answerKey");
    if (key == row.end() || !key->is_string()) return why = "missing string field 'answerKey'", std::nullopt;
    LoglikelihoodItem item;
    if (auto id = row.find("id"); id != row.end() && id->is_string()) item.id = id->get<std::string>();
    item.context = fmt::format("Question: {}\nAnswer:", stem->get<std::string>());
    std::vector<std::string> labels;
    for (const auto& choice : *choices) {
      const auto text = choice.find("text");
      const auto label = choice.find("label");
      if (!choice.is_object() || text == choice.end() || !text->is_string() || label == choice.end() ||
          !label->is_string()) {
        return why = "each of question.choices needs string fields 'text' and 'label'", std::nullopt;
      }
      item.choices.push_back(text->get<std::string>());
      labels.push_back(label->get<std::string>());
    }
    const auto gold = std::find(labels.begin(), labels.end(), key->get<std::string>());
    if (gold == labels.end()) {
      return why = fmt::format("answerKey '{}' is not one of the choice labels", key->get<std::string>()), std::nullopt;
    }
    item.gold = gold - labels.begin();
    return item;
  }

  std::string name_;
  std::vector<LoglikelihoodItem> items_;
};

}  // namespace

std::vector<TaskEntry> arc_task_entries() {
  return {
      {"arc_easy", TaskKind::kLoglikelihood, "ARC-Easy test (2376), 0-shot, acc / acc_norm",
       [](const TaskOptions& o) { return std::make_unique<ArcTask>("arc_easy", "Easy", o); }},
      {"arc_challenge", TaskKind::kLoglikelihood, "ARC-Challenge test (1172), 0-shot, acc / acc_norm",
       [](const TaskOptions& o) { return std::make_unique<ArcTask>("arc_challenge", "Challenge", o); }},
  };
}

}  // namespace eaq::eval
