// hellaswag: HellaSwag validation (10042), lm-eval's preprocessing of context and endings, 0-shot,
// acc and acc_norm.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> hellaswag_task_entries();

// lm-eval's hellaswag preprocess(): strip; " [title]" → ". "; drop "[...]" (shortest match);
// "  " → " " (one pass, as Python's str.replace).
std::string hellaswag_preprocess(std::string_view text);

}  // namespace eaq::eval
