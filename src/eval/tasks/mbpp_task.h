// mbpp: MBPP test split (task ids 11-510) with the MBPP paper's 3-shot prompt (task ids 2-4, as
// lm-eval's mbpp task), [BEGIN]/[DONE] delimiters, greedy until "[DONE]"; pass@1 = the generated
// code followed by the task's test_list asserts exits 0 in the PythonSandbox (eval/sandbox.h).
#pragma once

#include <vector>

#include "eval/sandbox.h"
#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> mbpp_task_entries();

// The program run for one item: the code, the setup code, then the asserts (lm-eval's
// pass_at_1 joins them the same way).
std::string mbpp_test_program(std::string_view code, std::string_view setup_code,
                              const std::vector<std::string>& test_list);

}  // namespace eaq::eval
