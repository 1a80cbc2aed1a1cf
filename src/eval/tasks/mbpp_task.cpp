// mbpp as lm-eval's lm_eval/tasks/mbpp/mbpp.yaml + utils.py: the prompt "You are an expert Python
// programmer, and here is your task: {text} Your code should pass these tests:\n\n{t0}\n{t1}\n{t2}\n
// [BEGIN]\n", few-shot = task ids 2, 3, 4 with target "{code}\n[DONE]" (target delimiter ""),
// joined with "\n\n"; until "[DONE]"; the prediction is utils.extract_code_blocks(generation)
// ("from __future__ import annotations\n" + the first ``` block, or the whole text); pass@1 as HF
// code_eval: prediction + "\n" + the asserts, run with a timeout (3 s in code_eval; here the
// PythonSandbox with 3 CPU-seconds and 10 s wall).
#include "eval/tasks/mbpp_task.h"

#include <fmt/format.h>

#include <map>

#include "core/error.h"
#include "eval/answer_extraction_regex.h"
#include "eval/dataset_readers.h"

namespace eaq::eval {
namespace {

constexpr int kFirstTestTaskId = 11;  // the paper: 1-10 few-shot, 11-510 test, 511-974 train
constexpr int kLastTestTaskId = 510;
constexpr int kFewshotTaskIds[] = {2, 3, 4};  // lm-eval's list_fewshot_samples

struct MbppRow {
  int task_id = 0;
  std::string text;
  std::string code;
  std::string setup_code;
  std::vector<std::string> test_list;
};

std::string doc_to_text(const MbppRow& row) {
  return fmt::format(
      "You are an expert Python programmer, and here is your task: {} Your code should pass these tests:\n\n{}\n{}\n{}\n[BEGIN]\n",
      row.text, row.test_list[0], row.test_list[1], row.test_list[2]);
}

// lm-eval mbpp/utils.py extract_code_blocks.
std::string extract_code_blocks(std::string_view text) {
  static const PythonStyleRegex block(R"((?s)```(?:\w+)?\n?(.*?)\n?```)");
  static const PythonStyleRegex python_fence("```python");
  constexpr std::string_view kIgnoreAnnotations = "from __future__ import annotations\n";
  auto matches = block.find_all("```" + std::string(text));
  if (matches.empty()) matches = block.find_all(python_fence.substitute(text, "```"));
  if (matches.empty()) return std::string(kIgnoreAnnotations) + std::string(text);
  return std::string(kIgnoreAnnotations) + matches.front().groups[1].value_or("");
}

class MbppTask final : public GenerationTask {
 public:
  explicit MbppTask(const TaskOptions& options, SandboxOptions sandbox_options)
      : sandbox_(std::move(sandbox_options)) {
    if (options.num_fewshot >= 0 && options.num_fewshot > 3) {
      fail("mbpp: --num-fewshot {} exceeds the 3 prompt tasks (ids 2-4) of the MBPP paper", options.num_fewshot);
    }
    const std::int64_t shots = options.num_fewshot < 0 ? 3 : options.num_fewshot;
    const auto path = find_data_file(options.data_dir / "mbpp", {"mbpp.jsonl"}, "mbpp");
    source_files_.push_back(path);
    BadRowPolicy policy(options.skip_bad);
    std::map<int, MbppRow> rows;
    for (const JsonRecord& record : read_jsonl(path, policy)) {
      const auto& value = record.value;
      MbppRow row;
      bool ok = value.is_object() && value.contains("task_id") && value["task_id"].is_number_integer() &&
                value.contains("text") && value["text"].is_string() && value.contains("code") &&
                value["code"].is_string() && value.contains("test_list") && value["test_list"].is_array() &&
                value["test_list"].size() >= 3;
      if (ok) {
        for (const auto& test : value["test_list"]) {
          if (!test.is_string()) ok = false;
        }
      }
      if (!ok) {
        policy.reject(path, record.line,
                      "expected task_id (integer), text, code (strings) and test_list (>= 3 strings)");
        continue;
      }
      row.task_id = value["task_id"].get<int>();
      row.text = value["text"].get<std::string>();
      row.code = value["code"].get<std::string>();
      if (value.contains("test_setup_code") && value["test_setup_code"].is_string()) {
        row.setup_code = value["test_setup_code"].get<std::string>();
      }
      for (const auto& test : value["test_list"]) row.test_list.push_back(test.get<std::string>());
      rows[row.task_id] = std::move(row);
    }
    std::string fewshot;
    for (std::int64_t i = 0; i < shots; ++i) {
      auto it = rows.find(kFewshotTaskIds[i]);
      if (it == rows.end()) fail("{}: the few-shot task id {} is missing; is this the full mbpp.jsonl (974 tasks)?", path.string(), kFewshotTaskIds[i]);
      fewshot += doc_to_text(it->second) + it->second.code + "\n[DONE]\n\n";
    }
    for (int id = kFirstTestTaskId; id <= kLastTestTaskId; ++id) {
      if (options.limit >= 0 && static_cast<std::int64_t>(items_.size()) >= options.limit) break;
      auto it = rows.find(id);
      if (it == rows.end()) {
        if (options.skip_bad) continue;  // a rejected row, already counted
        fail("{}: test task id {} is missing; is this the full mbpp.jsonl (974 tasks)?", path.string(), id);
      }
      GenerationItem item;
      item.id = std::to_string(id);
      item.prompt = fewshot + doc_to_text(it->second);
      item.stop_sequences = {"[DONE]"};
      item.max_new_tokens = 256;
      item.target = fmt::format("{}\n{}\n{}", it->second.test_list[0], it->second.test_list[1], it->second.test_list[2]);
      item.doc_index = rows_.size();
      rows_.push_back(it->second);
      items_.push_back(std::move(item));
    }
    skipped_rows_ = policy.skipped();
  }

  std::string name() const override { return "mbpp"; }
  std::vector<std::string> metric_names() const override { return {"pass@1"}; }
  const std::vector<GenerationItem>& items() const override { return items_; }

  ItemVerdict score(const GenerationItem& item, std::string_view generation) const override {
    const MbppRow& row = rows_.at(item.doc_index);
    const std::string code = extract_code_blocks(generation);
    const std::string program = mbpp_test_program(code, row.setup_code, row.test_list);
    const SandboxResult result = sandbox_.run(program);
    ItemVerdict verdict;
    verdict.correct = result.passed();
    verdict.metrics = {{"pass@1", verdict.correct ? 1.0 : 0.0}};
    verdict.details = {{"program", program}, {"sandbox", result.to_json()}};
    return verdict;
  }

 private:
  PythonSandbox sandbox_;
  std::vector<MbppRow> rows_;  // by GenerationItem::doc_index
  std::vector<GenerationItem> items_;
};

SandboxOptions mbpp_sandbox_options() {
  SandboxOptions options;
  options.limits.cpu_time_s = 3;  // HF code_eval's timeout is 3 s
  options.limits.wall_time_s = 10;
  return options;
}

}  // namespace

std::string mbpp_test_program(std::string_view code, std::string_view setup_code,
                              const std::vector<std::string>& test_list) {
  // code_eval runs candidate + "\n" + the reference (lm-eval's doc_to_target: the three asserts
  // joined by "\n"). MBPP's test_setup_code (one test task, id 367, has some) goes in between, as in
  // the MBPP paper's harness; it is empty for every other test task.
  std::string program(code);
  program += "\n";
  if (!setup_code.empty()) {
    program += setup_code;
    program += "\n";
  }
  for (std::size_t i = 0; i < test_list.size() && i < 3; ++i) {
    program += test_list[i];
    program += i + 1 < std::min<std::size_t>(test_list.size(), 3) ? "\n" : "";
  }
  return program;
}

std::vector<TaskEntry> mbpp_task_entries() {
  return {{"mbpp", TaskKind::kGeneration,
           "MBPP test (task ids 11-510), 3-shot [BEGIN]/[DONE] prompts, pass@1 in the code sandbox",
           [](const TaskOptions& o) { return std::make_unique<MbppTask>(o, mbpp_sandbox_options()); }}};
}

}  // namespace eaq::eval
