// sst2 as lm-eval's tasks/glue/sst2/default.yaml: validation split, choices
// ["negative", "positive"], target = label (1 = positive), metric acc.
#include "eval/tasks/sst2_task.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {

namespace {

class Sst2Task final : public LoglikelihoodTask {
 public:
  explicit Sst2Task(const TaskOptions& options) {
    // GLUE's SST-2/dev.tsv (header "sentence\tlabel") and our copy (header "text\tlabel").
    const auto path = find_data_file(options.data_dir / "sst2", {"dev.tsv", "SST-2/dev.tsv"}, "sst2");
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    const auto records = read_tsv(path);
    if (records.empty()) fail("{}: empty file; expected a header 'sentence<TAB>label' and one row per sentence", path.string());
    const auto& header = records.front().fields;
    if (header.size() != 2 || (header[0] != "sentence" && header[0] != "text") || header[1] != "label") {
      fail("{}:1: expected the header 'sentence<TAB>label' (or 'text<TAB>label'), got '{}'", path.string(),
           fmt::join(header, "<TAB>"));
    }
    for (std::size_t r = 1; r < records.size(); ++r) {
      if (options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit) break;
      const auto& f = records[r].fields;
      if (f.size() != 2) {
        policy.reject(path, records[r].line, fmt::format("expected 2 tab-separated fields, found {}", f.size()));
        continue;
      }
      if (f[1] != "0" && f[1] != "1") {
        policy.reject(path, records[r].line, fmt::format("label must be 0 or 1, found '{}'", f[1]));
        continue;
      }
      LoglikelihoodItem item;
      item.id = std::to_string(r - 1);
      item.context = fmt::format("{}\nQuestion: Is this sentence positive or negative?\nAnswer:", f[0]);
      item.choices = {"negative", "positive"};
      item.gold = f[1] == "1" ? 1 : 0;
      items_.push_back(std::move(item));
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return "sst2"; }
  std::vector<std::string> metric_names() const override { return {"acc"}; }
  const std::vector<LoglikelihoodItem>& items() const override { return items_; }
  ItemVerdict score(const LoglikelihoodItem& item, std::span<const runtime::ContinuationScore> scores) const override {
    auto verdict = score_multiple_choice(item, scores);
    verdict.metrics.resize(1);  // lm-eval's sst2 reports acc only
    return verdict;
  }

 private:
  std::vector<LoglikelihoodItem> items_;
};

}  // namespace

std::vector<TaskEntry> sst2_task_entries() {
  return {{"sst2", TaskKind::kLoglikelihood, "GLUE SST-2 validation (872), 0-shot, acc",
           [](const TaskOptions& o) { return std::make_unique<Sst2Task>(o); }}};
}

}  // namespace eaq::eval
