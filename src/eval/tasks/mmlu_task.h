// mmlu (all 57 subjects) and mmlu_<subject>: MMLU test questions, 5-shot from each subject's dev
// split, lm-eval's default template; acc. As lm-eval, --limit applies per subject.
#pragma once

#include <string_view>
#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> mmlu_task_entries();

// The 57 subjects in lm-eval's (alphabetical) naming.
const std::vector<std::string_view>& mmlu_subjects();

}  // namespace eaq::eval
