// gsm8k: GSM8K test (1319) as lm-eval's gsm8k_cot — the 8 chain-of-thought exemplars of Wei et al.
// (2022), "Q: ...\nA:" prompts, greedy until "Q:", exact match after the strict-match and
// flexible-extract filters (eval/answer_extraction.h). Named `gsm8k` in eaq (docs/sandbox.md).
#pragma once

#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> gsm8k_task_entries();

}  // namespace eaq::eval
