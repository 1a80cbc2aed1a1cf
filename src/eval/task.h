// Task: the interface every accuracy task implements, and the item / verdict types the runner
// (`eaq eval`) passes between a task and the engine.
//
// Design. A task turns dataset rows into *requests* and turns the engine's answers into
// *verdicts*; it never touches the engine. Two kinds, as in lm-evaluation-harness:
//   - LoglikelihoodTask: each item is a context and a list of continuations (lm-eval's
//     `multiple_choice` output type). The runner scores every continuation with
//     Session::score (context keys/values computed once, continuations batched over the slots) and
//     hands the log-likelihoods back to Task::score, whose default is lm-eval's acc (argmax of
//     log-likelihood) and acc_norm (argmax of log-likelihood / length of the choice).
//   - GenerationTask: each item is a prompt, stop sequences and a token budget (lm-eval's
//     `generate_until`). The runner decodes greedily and hands the text to Task::score, which
//     extracts the answer (or runs code) and says whether it is right.
// Prompts are plain text exactly as lm-eval builds them (few-shot examples included); the runner
// encodes them as lm-eval's HF backend does (eval/request_encoding.h). Items are built when the
// task is made (make(TaskOptions) in task_registry.h), so data errors surface before the model
// runs. Per-item metric values are averaged by the runner; the first metric is the task's headline
// (its `correct` verdict is what "J per correct answer" counts).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/session.h"

namespace eaq::eval {

// What every task's loader gets from the command line.
struct TaskOptions {
  // The folder holding one sub-folder per dataset (arc/, mmlu/, hellaswag/, ...) in the layouts
  // of ../shared/datasets or the canonical upstream ones (see docs/eval.md).
  std::filesystem::path data_dir;
  // Keep the first `limit` items (< 0: all). As lm-eval's --limit, group tasks (mmlu) apply it to
  // each subtask (subject).
  std::int64_t limit = -1;
  // Seed of any random choice a task makes (few-shot sampling); lm-eval's default is 1234.
  std::uint64_t seed = 1234;
  // Number of few-shot examples; < 0 = the task's default.
  std::int64_t num_fewshot = -1;
  // Skip malformed dataset rows (counted in Task::skipped_rows) instead of failing on the first.
  bool skip_bad = false;
};

// One metric's value for one item (e.g. {"acc", 1}); averaged over items by the runner.
struct MetricValue {
  std::string name;
  double value = 0;
};

struct ItemVerdict {
  bool correct = false;              // the headline metric's verdict
  std::vector<MetricValue> metrics;  // one value per Task::metric_names(), in that order
  std::int64_t predicted = -1;       // log-likelihood tasks: the chosen continuation's index
  // Audit details for the per-item JSONL (extracted answer, sandbox report, ...).
  nlohmann::json details = nlohmann::json::object();
};

// --- log-likelihood (multiple choice) ---------------------------------------------------------

struct LoglikelihoodItem {
  std::string id;                          // stable within the task, e.g. "abstract_algebra/12"
  std::string context;               // the whole prompt, few-shot examples included
  std::vector<std::string> choices;  // lm-eval's doc_to_choice (without the delimiter)
  // What goes between context and choice: the scored continuation is target_delimiter + choice
  // (lm-eval's default " "); acc_norm divides by the length of the choice alone, as lm-eval.
  std::string target_delimiter = " ";
  std::int64_t gold = -1;  // index of the right choice
  // Tasks whose metric needs more than one right answer (truthfulqa_mc2): 1 = true, 0 = false per
  // choice. Empty otherwise.
  std::vector<int> labels;
};

// --- generation --------------------------------------------------------------------------------

struct GenerationItem {
  std::string id;
  std::string prompt;                       // the whole prompt, few-shot examples included
  std::vector<std::string> stop_sequences;  // lm-eval's `until`
  std::int64_t max_new_tokens = 256;
  std::string target;        // the reference answer, for the audit trail
  std::size_t doc_index = 0;  // the task's own index of the source row (what score() looks up)
};

// --- tasks -------------------------------------------------------------------------------------

enum class TaskKind { kLoglikelihood, kGeneration };

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual TaskKind kind() const = 0;
  // lm-eval's metric names, headline first (e.g. {"acc", "acc_norm"}, {"mc2"}, {"exact_match"}).
  virtual std::vector<std::string> metric_names() const = 0;
  // Dataset rows skipped as malformed (only with TaskOptions::skip_bad).
  std::int64_t skipped_rows() const { return skipped_rows_; }
  // The data files the items came from, for the report's provenance.
  const std::vector<std::filesystem::path>& source_files() const { return source_files_; }

 protected:
  std::int64_t skipped_rows_ = 0;
  std::vector<std::filesystem::path> source_files_;
};

class LoglikelihoodTask : public Task {
 public:
  TaskKind kind() const override { return TaskKind::kLoglikelihood; }
  std::vector<std::string> metric_names() const override { return {"acc", "acc_norm"}; }
  virtual const std::vector<LoglikelihoodItem>& items() const = 0;
  // scores[i] belongs to item.choices[i]. Default: acc and acc_norm as lm-eval.
  virtual ItemVerdict score(const LoglikelihoodItem& item,
                            std::span<const runtime::ContinuationScore> scores) const;
};

class GenerationTask : public Task {
 public:
  TaskKind kind() const override { return TaskKind::kGeneration; }
  virtual const std::vector<GenerationItem>& items() const = 0;
  // `generation` is the decoded text, cut before the first stop sequence.
  virtual ItemVerdict score(const GenerationItem& item, std::string_view generation) const = 0;
};

// lm-eval's multiple-choice metrics: acc = argmax log-likelihood, acc_norm = argmax
// log-likelihood / length of the choice (lm-eval's docs say "byte length" but its code divides by
// len(choice) of the Python str, i.e. Unicode code points; so do we). Ties: the first index, as
// numpy's argmax.
ItemVerdict score_multiple_choice(const LoglikelihoodItem& item,
                                  std::span<const runtime::ContinuationScore> scores);

}  // namespace eaq::eval
