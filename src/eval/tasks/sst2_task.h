// sst2: GLUE SST-2 validation (872), lm-eval's prompted classification
// "{sentence}\nQuestion: Is this sentence positive or negative?\nAnswer:" → " negative" / " positive".
#pragma once

#include <vector>

#include "eval/task_registry.h"

namespace eaq::eval {

std::vector<TaskEntry> sst2_task_entries();

}  // namespace eaq::eval
