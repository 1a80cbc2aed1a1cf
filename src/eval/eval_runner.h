// The eval runner: runs one task's items through an engine — log-likelihood items with
// Session::score (lm-eval's request encoding), generation items with greedy generate() and the
// task's stop sequences — and aggregates per-item metrics the way lm-eval does (mean, and stderr =
// sample standard deviation / sqrt(n)). Per-item audit records go to a callback (JSONL), progress
// to another. Energy is not measured here: the caller wraps run_task in an energy window.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "eval/task.h"
#include "runtime/engine.h"

namespace eaq::eval {

struct MetricSummary {
  std::string name;
  double mean = 0;
  double stderr_of_mean = 0;  // lm-eval's mean_stderr: sample std (ddof=1) / sqrt(n)
};

struct TaskResult {
  std::string task;
  TaskKind kind = TaskKind::kLoglikelihood;
  std::int64_t n_items = 0;     // items run (all of the task's, unless interrupted)
  std::int64_t n_task_items = 0;  // items the task has
  bool interrupted = false;       // stopped by RunCallbacks::stop before its last item
  std::int64_t n_correct = 0;  // items whose headline verdict is correct
  std::int64_t skipped_rows = 0;
  std::int64_t truncated_items = 0;  // prompts cut on the left to fit the context (as lm-eval does)
  std::vector<MetricSummary> metrics;  // in Task::metric_names() order
  std::int64_t prompt_tokens = 0;      // context tokens run (once per item)
  std::int64_t scored_tokens = 0;      // continuation tokens scored, or tokens generated
  double wall_s = 0;
  double items_per_s() const { return wall_s > 0 ? static_cast<double>(n_items) / wall_s : 0; }
};

struct RunCallbacks {
  std::function<void(std::int64_t done, std::int64_t total)> on_progress;
  // One audit record per item: task, id, prompt, choices with log-likelihoods (or the
  // generation), predicted, gold, verdict, metrics, details.
  std::function<void(const nlohmann::json& record)> on_item;
  // Checked before each item: once it reads true the task stops there, its result covering the
  // items already run (TaskResult::interrupted).
  const std::atomic<bool>* stop = nullptr;
};

TaskResult run_task(runtime::Engine& engine, const Task& task, const RunCallbacks& callbacks);

// lm-eval's aggregation of per-item values: mean and sample std / sqrt(n) (0 when n < 2).
MetricSummary summarize_metric(std::string name, const std::vector<double>& values);

}  // namespace eaq::eval
