// Task registry: task name → factory. Every task is listed once in the table in
// task_registry.cpp (a static library drops self-registering objects nobody references, so the
// table is explicit); a task file contributes its entries through one function declared in its
// header (tasks/<name>_task.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eval/task.h"

namespace eaq::eval {

using TaskFactory = std::function<std::unique_ptr<Task>(const TaskOptions&)>;

struct TaskEntry {
  std::string name;         // what --task takes, e.g. "arc_easy", "mmlu", "mmlu_anatomy"
  TaskKind kind = TaskKind::kLoglikelihood;
  std::string description;  // one line for `eaq eval --list-tasks`
  TaskFactory make;         // reads the data (throws eaq::Error on bad rows) and builds the items
  bool listed = true;       // false for the many subtasks (mmlu_<subject>) kept out of the list
};

// Every task, in the order of the table.
const std::vector<TaskEntry>& task_table();

// The entry named `name`; eaq::Error listing the known names when there is none.
const TaskEntry& find_task(std::string_view name);

// "a,b,c" → entries, in order, duplicates dropped; eaq::Error for an unknown or empty name.
std::vector<const TaskEntry*> parse_task_list(std::string_view comma_separated);

}  // namespace eaq::eval
