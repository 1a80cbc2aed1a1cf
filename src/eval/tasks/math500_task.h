// math500: MATH-500 (500 problems of Lightman et al.'s test split) with lm-eval's minerva_math
// 4-shot prompt, greedy until "Problem:", scored with Hendrycks' is_equiv on the extracted answer
// (headline) and Minerva's normalised string match (eval/answer_extraction.h).
#pragma once

#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> math500_task_entries();

}  // namespace eaq::eval
