// truthfulqa_mc1 and truthfulqa_mc2: TruthfulQA multiple choice (817 questions) with lm-eval's
// 6-shot QA primer; mc1 = acc on one true answer among false ones, mc2 = probability mass on the
// true answers. Choice lists come from TruthfulQA's mc_task.json when present, else are built
// from TruthfulQA.csv's answer columns (docs/eval.md says how and what differs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> truthfulqa_task_entries();

// TruthfulQA's utilities.split_multi_answer: split at ';', strip, drop empties, end each with '.'.
std::vector<std::string> truthfulqa_split_answers(std::string_view answers);

}  // namespace eaq::eval
