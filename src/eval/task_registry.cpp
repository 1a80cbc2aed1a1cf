// The table of every task `eaq eval --task` knows (see task_registry.h).
#include "eval/task_registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "eval/tasks/arc_task.h"
#include "eval/tasks/gsm8k_task.h"
#include "eval/tasks/hellaswag_task.h"
#include "eval/tasks/math500_task.h"
#include "eval/tasks/mbpp_task.h"
#include "eval/tasks/mmlu_task.h"
#include "eval/tasks/sst2_task.h"
#include "eval/tasks/truthfulqa_task.h"

namespace eaq::eval {

namespace {

// One line per task file: its entries (a task file may contribute several, e.g. arc_easy and
// arc_challenge, or mmlu and its 57 subjects).
std::vector<TaskEntry> build_task_table() {
  std::vector<TaskEntry> table;
  auto append = [&table](std::vector<TaskEntry> entries) {
    for (auto& e : entries) table.push_back(std::move(e));
  };
  // Log-likelihood tasks.
  append(mmlu_task_entries());
  append(arc_task_entries());
  append(hellaswag_task_entries());
  append(truthfulqa_task_entries());
  append(sst2_task_entries());
  // Generation tasks (tasks/gsm8k_task.h, math500_task.h, mbpp_task.h): one line each,
  // append(<name>_task_entries());
  append(gsm8k_task_entries());
  append(math500_task_entries());
  append(mbpp_task_entries());
  return table;
}

}  // namespace

const std::vector<TaskEntry>& task_table() {
  static const std::vector<TaskEntry> table = build_task_table();
  return table;
}

const TaskEntry& find_task(std::string_view name) {
  for (const auto& entry : task_table()) {
    if (entry.name == name) return entry;
  }
  std::string known;
  for (const auto& entry : task_table()) {
    if (!entry.listed) continue;
    known += known.empty() ? "" : ", ";
    known += entry.name;
  }
  fail("unknown task '{}'. Known tasks: {} (and mmlu_<subject> for one MMLU subject)", name,
       known.empty() ? "(none)" : known);
}

std::vector<const TaskEntry*> parse_task_list(std::string_view comma_separated) {
  std::vector<const TaskEntry*> entries;
  std::size_t start = 0;
  while (start <= comma_separated.size()) {
    std::size_t end = comma_separated.find(',', start);
    if (end == std::string_view::npos) end = comma_separated.size();
    std::string_view name = comma_separated.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) fail("empty task name in --task '{}': give a comma-separated list such as arc_easy,mmlu", comma_separated);
    const TaskEntry* entry = &find_task(name);
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
    start = end + 1;
  }
  return entries;
}

}  // namespace eaq::eval
