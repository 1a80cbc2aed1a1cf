// arc_easy and arc_challenge: AI2 Reasoning Challenge, lm-eval's prompt
// "Question: {question}\nAnswer:" with " {choice}" (acc, acc_norm), 0-shot.
#pragma once

#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> arc_task_entries();

}  // namespace eaq::eval
