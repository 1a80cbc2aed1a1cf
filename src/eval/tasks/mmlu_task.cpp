// mmlu as lm-eval's tasks/mmlu/default (_default_template_yaml + mmlu_<subject>.yaml):
//   description "The following are multiple choice questions (with answers) about {subject}.\n\n"
//   (underscores of the subject name as spaces), few-shot examples = the first n rows of the dev
//   split (sampler first_n), each "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:"
//   + " " + letter + "\n\n", then the test question; choices " A".." D"; metric acc. lm-eval's
//   default num_fewshot for mmlu is 0; eaq's default is the customary 5 (--num-fewshot changes it).
// The group's acc is the mean over all items (lm-eval: weight_by_size: True).
//
// Layouts: our copies (csv with header question,choice0..choice3,answer and a 0-based answer index)
// and hendrycks' data.tar (headerless csv, letter answers), in mmlu/{dev,test}/ or
// mmlu/data/{dev,test}/, files <subject>_{dev,test}.csv.
#include "eval/tasks/mmlu_task.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {

namespace {

constexpr std::int64_t kDefaultFewshot = 5;

struct MmluRow {
  std::string question;
  std::string choices[4];
  int answer = 0;
};

std::string python_strip(std::string_view text) {
  const auto* ws = " \t\n\r\v\f";
  const auto begin = text.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  return std::string(text.substr(begin, text.find_last_not_of(ws) - begin + 1));
}

std::vector<MmluRow> read_mmlu_csv(const std::filesystem::path& path, BadRowPolicy& policy) {
  std::vector<MmluRow> rows;
  const auto records = read_csv(path);
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    if (r == 0 && f.size() == 6 && f[0] == "question" && f[5] == "answer") continue;  // header
    if (f.size() != 6) {
      policy.reject(path, records[r].line,
                    fmt::format("expected 6 fields (question, 4 choices, answer), found {}", f.size()));
      continue;
    }
    MmluRow row;
    row.question = f[0];
    for (int k = 0; k < 4; ++k) row.choices[k] = f[1 + k];
    const std::string& a = f[5];
    if (a.size() == 1 && a[0] >= 'A' && a[0] <= 'D') {
      row.answer = a[0] - 'A';
    } else if (a.size() == 1 && a[0] >= '0' && a[0] <= '3') {
      row.answer = a[0] - '0';
    } else {
      policy.reject(path, records[r].line, fmt::format("answer must be A-D or 0-3, found '{}'", a));
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string question_text(const MmluRow& row) {
  return fmt::format("{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:", python_strip(row.question), row.choices[0],
                     row.choices[1], row.choices[2], row.choices[3]);
}

class MmluTask final : public LoglikelihoodTask {
 public:
  MmluTask(std::string name, std::vector<std::string_view> subjects, const TaskOptions& options)
      : name_(std::move(name)) {
    const std::int64_t n_shot = options.num_fewshot >= 0 ? options.num_fewshot : kDefaultFewshot;
    const auto root = options.data_dir / "mmlu";
    BadRowPolicy policy(options.skip_bad);
    for (auto subject : subjects) {
      const std::string test_file = fmt::format("{}_test.csv", subject);
      const std::string dev_file = fmt::format("{}_dev.csv", subject);
      const auto test_path = find_data_file(root, {"test/" + test_file, "data/test/" + test_file}, name_);
      source_files_.push_back(test_path);
      const auto test_rows = read_mmlu_csv(test_path, policy);
      std::vector<MmluRow> dev_rows;
      if (n_shot > 0) {
        const auto dev_path = find_data_file(root, {"dev/" + dev_file, "data/dev/" + dev_file}, name_);
        source_files_.push_back(dev_path);
        dev_rows = read_mmlu_csv(dev_path, policy);
        if (static_cast<std::int64_t>(dev_rows.size()) < n_shot) {
          fail("{}: {} few-shot examples asked for, the dev split has {} usable rows", dev_path.string(), n_shot,
               dev_rows.size());
        }
      }
      std::string subject_words(subject);
      for (auto& c : subject_words) c = c == '_' ? ' ' : c;
      std::string prefix = fmt::format("The following are multiple choice questions (with answers) about {}.\n\n",
                                       subject_words);
      for (std::int64_t s = 0; s < n_shot; ++s) {
        const auto& shot = dev_rows[static_cast<std::size_t>(s)];
        prefix += question_text(shot) + " " + static_cast<char>('A' + shot.answer) + "\n\n";
      }
      for (std::size_t i = 0; i < test_rows.size(); ++i) {
        if (options.limit >= 0 && static_cast<std::int64_t>(i) >= options.limit) break;
        LoglikelihoodItem item;
        item.id = fmt::format("{}/{}", subject, i);
        item.context = prefix + question_text(test_rows[i]);
        item.choices = {"A", "B", "C", "D"};
        item.gold = test_rows[i].answer;
        items_.push_back(std::move(item));
      }
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return name_; }
  std::vector<std::string> metric_names() const override { return {"acc"}; }
  const std::vector<LoglikelihoodItem>& items() const override { return items_; }
  ItemVerdict score(const LoglikelihoodItem& item, std::span<const runtime::ContinuationScore> scores) const override {
    auto verdict = score_multiple_choice(item, scores);
    verdict.metrics.resize(1);  // lm-eval's mmlu reports acc only
    return verdict;
  }

 private:
  std::string name_;
  std::vector<LoglikelihoodItem> items_;
};

}  // namespace

const std::vector<std::string_view>& mmlu_subjects() {
  static const std::vector<std::string_view> subjects = {
      "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
      "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine",
      "college_physics", "computer_security", "conceptual_physics", "econometrics", "electrical_engineering",
      "elementary_mathematics", "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry",
      "high_school_computer_science", "high_school_european_history", "high_school_geography",
      "high_school_government_and_politics", "high_school_macroeconomics", "high_school_mathematics",
      "high_school_microeconomics", "high_school_physics", "high_school_psychology", "high_school_statistics",
      "high_school_us_history", "high_school_world_history", "human_aging", "human_sexuality",
      "international_law", "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
      "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition", "philosophy",
      "prehistory", "professional_accounting", "professional_law", "professional_medicine",
      "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy",
      "virology", "world_religions"};
  return subjects;
}

std::vector<TaskEntry> mmlu_task_entries() {
  std::vector<TaskEntry> entries;
  entries.push_back({"mmlu", TaskKind::kLoglikelihood,
                     "MMLU test (14042, 57 subjects), 5-shot from dev, acc; --limit is per subject",
                     [](const TaskOptions& o) { return std::make_unique<MmluTask>("mmlu", mmlu_subjects(), o); }});
  for (auto subject : mmlu_subjects()) {
    std::string name = fmt::format("mmlu_{}", subject);
    entries.push_back({name, TaskKind::kLoglikelihood, fmt::format("MMLU {} (5-shot, acc)", subject),
                       [name, subject](const TaskOptions& o) {
                         return std::make_unique<MmluTask>(name, std::vector<std::string_view>{subject}, o);
                       },
                       /*listed=*/false});
  }
  return entries;
}

}  // namespace eaq::eval
