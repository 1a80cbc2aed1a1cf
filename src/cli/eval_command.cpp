// `eaq eval MODEL --task LIST`: accuracy tasks (lm-evaluation-harness's prompts and metrics) on
// one model, with per-task wall time, items/s and the energy each task used; per-item JSONL for
// audit; a progress bar on stderr. The energy window around each task is experiment/metered_task.h.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/sigint_stop.h"
#include "core/error.h"
#include "energy/energy_json.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "eval/eval_runner.h"
#include "eval/task_registry.h"
#include "experiment/bench_spec.h"
#include "experiment/metered_task.h"

namespace eaq::cli {

namespace {

struct EvalFlags {
  EngineFlags engine;
  std::string tasks;
  std::int64_t limit = -1;
  std::uint64_t seed = 1234;
  std::int64_t num_fewshot = -1;
  std::string data_dir;
  std::string format = "md";
  std::string out_file;
  std::string items_out;
  bool skip_bad = false;
  bool list_tasks = false;
  std::int64_t batch = 4;
  std::string energy = "auto";
  double idle_s = 0;
  bool no_progress = false;
};

// Energy one task used, from the window around it. Absent when no meter ran.
struct TaskEnergy {
  double energy_j = 0;      // gross, over the domains that count toward the total
  double net_energy_j = 0;  // gross - idle (only meaningful with an idle baseline)
  bool has_idle_baseline = false;
  std::string source;   // "counter", "sampled", "estimated", or a '+'-joined mix
  std::string domains;  // e.g. "cpu-package"
  nlohmann::json window;
};

std::optional<TaskEnergy> task_energy(const experiment::MeteredTaskResult& metered) {
  if (!metered.energy || !metered.window) return std::nullopt;
  const auto& m = *metered.energy;
  TaskEnergy e;
  e.energy_j = m.energy_j;
  e.net_energy_j = m.net_energy_j;
  e.has_idle_baseline = m.has_idle_baseline;
  e.source = m.source;
  e.domains = m.domains;
  e.window = energy::to_json(*metered.window);
  return e;
}

class ProgressBar {
 public:
  ProgressBar(std::string task, bool enabled) : task_(std::move(task)), enabled_(enabled), tty_(isatty(2) != 0) {
    start_ = std::chrono::steady_clock::now();
  }
  void update(std::int64_t done, std::int64_t total) {
    if (!enabled_ || total <= 0) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    if (!tty_) {  // a log, not a terminal: one line per tenth
      const std::int64_t tenth = done * 10 / total;
      if (tenth == last_tenth_ && done != total) return;
      last_tenth_ = tenth;
      fmt::print(stderr, "{}: {}/{} items, {:.2f} items/s, ETA {:.0f} s\n", task_, done, total, rate, eta);
      return;
    }
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    fmt::print(stderr, "\r{:<16} [{}{}] {}/{} {:.2f} it/s ETA {:.0f} s ", task_, std::string(filled, '='),
               std::string(kWidth - filled, ' '), done, total, rate, eta);
    if (done == total) fmt::print(stderr, "\n");
  }

 private:
  std::string task_;
  bool enabled_;
  bool tty_;
  std::int64_t last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_;
};

struct TaskRow {
  std::string precision;  // as asked (--precision)
  std::string weights;    // what the engine runs (Engine::weights_description)
  eval::TaskResult result;
  std::optional<TaskEnergy> energy;
  std::vector<std::string> sources;
};

nlohmann::json row_json(const TaskRow& row, const EvalFlags& flags) {
  const auto& r = row.result;
  nlohmann::json j;
  j["task"] = r.task;
  j["kind"] = r.kind == eval::TaskKind::kLoglikelihood ? "loglikelihood" : "generation";
  j["model"] = flags.engine.model_path;
  j["precision"] = row.precision;
  j["weights"] = row.weights;
  j["metrics"] = nlohmann::json::object();
  for (const auto& m : r.metrics) j["metrics"][m.name] = {{"value", m.mean}, {"stderr", m.stderr_of_mean}};
  j["items"] = r.n_items;
  j["task_items"] = r.n_task_items;
  j["interrupted"] = r.interrupted;
  j["correct"] = r.n_correct;
  j["skipped_rows"] = r.skipped_rows;
  j["truncated_items"] = r.truncated_items;
  j["prompt_tokens"] = r.prompt_tokens;
  j["scored_tokens"] = r.scored_tokens;
  j["wall_s"] = r.wall_s;
  j["items_per_s"] = r.items_per_s();
  j["limit"] = flags.limit;
  j["seed"] = flags.seed;
  j["num_fewshot"] = flags.num_fewshot;
  j["data_files"] = row.sources;
  j["git_sha"] = EAQ_GIT_SHA;
  if (row.energy) {
    const auto& e = *row.energy;
    j["energy"] = {{"energy_j", e.energy_j},
                   {"energy_per_item_j", r.n_items > 0 ? e.energy_j / static_cast<double>(r.n_items) : 0},
                   {"energy_per_correct_j", r.n_correct > 0 ? nlohmann::json(e.energy_j / static_cast<double>(r.n_correct))
                                                            : nlohmann::json(nullptr)},
                   {"source", e.source},
                   {"domains", e.domains},
                   {"window", e.window}};
    if (e.has_idle_baseline) j["energy"]["net_energy_j"] = e.net_energy_j;
  } else {
    j["energy"] = nullptr;
  }
  return j;
}

std::string markdown_report(const std::vector<TaskRow>& rows, const EvalFlags& flags) {
  std::string out = fmt::format("model: {}, limit {}, seed {}\n", flags.engine.model_path,
                                flags.limit < 0 ? std::string("none") : std::to_string(flags.limit), flags.seed);
  std::string seen;
  for (const auto& row : rows) {
    if (seen != row.precision) out += fmt::format("precision {}: {}\n", row.precision, row.weights);
    seen = row.precision;
  }
  out += "\n| task | precision | metric | value | ± stderr | acc_norm | items | correct | time s | items/s | energy J | J/item | J/correct | energy source |\n";
  out += "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& row : rows) {
    const auto& r = row.result;
    const auto& head = r.metrics.front();
    std::string norm = "";
    for (const auto& m : r.metrics) {
      if (m.name == "acc_norm") norm = fmt::format("{:.4f} ± {:.4f}", m.mean, m.stderr_of_mean);
    }
    std::string energy_cols = "- | - | - | not measured";
    if (row.energy) {
      const auto& e = *row.energy;
      energy_cols = fmt::format("{:.1f} | {:.3f} | {} | {} ({})", e.energy_j, e.energy_j / static_cast<double>(std::max<std::int64_t>(r.n_items, 1)),
                                r.n_correct > 0 ? fmt::format("{:.3f}", e.energy_j / static_cast<double>(r.n_correct)) : "-",
                                e.source, e.domains);
    }
    out += fmt::format("| {} | {} | {} | {:.4f} | {:.4f} | {} | {} | {} | {:.1f} | {:.3f} | {} |\n", r.task, row.precision, head.name, head.mean,
                       head.stderr_of_mean, norm.empty() ? "-" : norm,
                       r.interrupted ? fmt::format("{} of {}", r.n_items, r.n_task_items) : std::to_string(r.n_items),
                       r.n_correct, r.wall_s, r.items_per_s(),
                       energy_cols);
  }
  for (const auto& row : rows) {
    if (row.result.interrupted) {
      out += fmt::format("\n{} ({}): interrupted (SIGINT) after {} of {} items; its figures cover those items only",
                         row.result.task, row.precision, row.result.n_items, row.result.n_task_items);
    }
    if (row.result.skipped_rows > 0) out += fmt::format("\n{}: {} malformed dataset rows skipped (--skip-bad)", row.result.task, row.result.skipped_rows);
    if (row.result.truncated_items > 0) out += fmt::format("\n{}: {} prompts cut on the left to fit the context (--ctx)", row.result.task, row.result.truncated_items);
  }
  if (!rows.empty() && rows.front().energy && !rows.front().energy->has_idle_baseline) {
    out += "\nenergy is gross (no idle baseline subtracted; --idle S measures one)";
  }
  return out + "\n";
}

// Returns true when Ctrl-C stopped the run.
bool run_eval(const EvalFlags& flags) {
  if (flags.list_tasks) {
    for (const auto& entry : eval::task_table()) {
      if (entry.listed) fmt::print("{:<16} {:<14} {}\n", entry.name,
                                   entry.kind == eval::TaskKind::kLoglikelihood ? "loglikelihood" : "generation",
                                   entry.description);
    }
    fmt::print("mmlu_<subject>   loglikelihood  one MMLU subject (57: abstract_algebra ... world_religions)\n");
    return false;
  }
  if (flags.tasks.empty()) fail("give --task LIST (comma-separated; --list-tasks shows them)");
  if (flags.format != "md" && flags.format != "json" && flags.format != "jsonl") {
    fail("-o {} is not a format: use md, json or jsonl", flags.format);
  }
  if (flags.batch < 1 || flags.batch > 64) fail("--batch {} must be within [1, 64]", flags.batch);
  if (flags.energy != "auto" && flags.energy != "off") fail("--energy {} must be auto or off", flags.energy);
  if (!(flags.idle_s >= 0 && flags.idle_s <= 600)) fail("--idle must be within [0, 600] s, got {}", flags.idle_s);

  eval::TaskOptions options;
  options.data_dir = flags.data_dir;
  if (options.data_dir.empty()) {
    if (const char* env = std::getenv("EAQ_DATA_DIR")) options.data_dir = env;
  }
  if (options.data_dir.empty()) fail("give --data-dir (a folder in the layout of docs/eval.md, e.g. ../shared/datasets) or set EAQ_DATA_DIR");
  options.limit = flags.limit;
  options.seed = flags.seed;
  options.num_fewshot = flags.num_fewshot;
  options.skip_bad = flags.skip_bad;

  // --weights/--precision may list several: every name is checked before anything runs.
  const std::vector<std::string> precisions = experiment::split_list(flags.engine.weight_dtype);
  if (precisions.size() != static_cast<std::size_t>(std::count(flags.engine.weight_dtype.begin(), flags.engine.weight_dtype.end(), ',')) + 1) {
    fail("--precision {} has an empty entry: give comma-separated names, e.g. f16,int8", flags.engine.weight_dtype);
  }
  for (auto it = precisions.begin(); it != precisions.end(); ++it) {
    check_weight_precision(*it);
    if (std::find(precisions.begin(), it, *it) != it) fail("--precision lists {} twice", *it);
  }
  if (precisions.size() > 1 && !flags.engine.plan_path.empty()) {
    fail("--plan sets the precision of every tensor, so it takes no --precision list ({}); run one plan per eval",
         flags.engine.weight_dtype);
  }

  // Build every task first: data errors surface before the model loads.
  std::vector<std::unique_ptr<eval::Task>> tasks;
  for (const auto* entry : eval::parse_task_list(flags.tasks)) tasks.push_back(entry->make(options));

  std::unique_ptr<std::ofstream> items_file;
  if (!flags.items_out.empty()) {
    items_file = std::make_unique<std::ofstream>(flags.items_out);
    if (!*items_file) fail("cannot write --items-out {}: check the directory exists and is writable", flags.items_out);
  }

  energy::MeterSet meters;
  energy::IdleBaseline idle;
  if (flags.energy == "auto") {
    meters = energy::MeterSet::detect({});
    if (meters.empty()) spdlog::warn("no energy meter is usable here; energy columns stay empty");
    if (flags.idle_s > 0 && !meters.empty()) {
      spdlog::info("measuring idle power for {:.1f} s", flags.idle_s);
      idle = energy::measure_idle_baseline(meters, flags.idle_s);
    }
  }

  // One model load per precision, the tasks run on each in turn. Ctrl-C stops between items: the
  // report then covers the items run, the task that was running marked interrupted.
  std::vector<TaskRow> rows;
  std::vector<std::pair<std::string, std::string>> failed_precisions;  // (precision, why)
  bool interrupted = false;
  {
    SigintStop sigint;
    for (const auto& precision : precisions) {
      EngineFlags engine_flags = flags.engine;
      engine_flags.weight_dtype = precision;
      std::optional<runtime::Engine> loaded;
      try {
        loaded.emplace(load_engine(engine_flags, flags.batch));
      } catch (const Error& e) {
        if (rows.empty()) throw;  // nothing measured yet: fail as a single precision would
        // The precisions already measured stay in the report; this one is listed under it.
        spdlog::error("precision {} could not be loaded: {}", precision, e.what());
        failed_precisions.emplace_back(precision, e.what());
        continue;
      }
      runtime::Engine& engine = *loaded;
      for (const auto& task : tasks) {
        ProgressBar bar(precisions.size() > 1 ? task->name() + " " + precision : task->name(), !flags.no_progress);
        eval::RunCallbacks callbacks;
        callbacks.stop = sigint.flag();
        callbacks.on_progress = [&bar](std::int64_t done, std::int64_t total) { bar.update(done, total); };
        if (items_file) {
          // Flushed per item: a run that is killed keeps every item it finished.
          callbacks.on_item = [&items_file, &precision](const nlohmann::json& record) {
            nlohmann::json tagged = record;
            tagged["precision"] = precision;
            *items_file << tagged.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
          };
        }
        TaskRow row;
        row.precision = precision;
        row.weights = engine.weights_description;
        auto metered = experiment::run_task_metered(engine, *task, callbacks, meters, idle);
        row.result = std::move(metered.result);
        row.energy = task_energy(metered);
        for (const auto& path : task->source_files()) row.sources.push_back(path.string());
        interrupted = row.result.interrupted;
        if (row.result.n_items > 0) rows.push_back(std::move(row));
        if (interrupted) break;
      }
      if (interrupted) break;
    }
  }
  if (items_file) {
    items_file->flush();
    if (!*items_file) fail("error writing --items-out {}", flags.items_out);
  }

  std::string report;
  if (flags.format == "md") {
    report = markdown_report(rows, flags);
  } else if (flags.format == "json") {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& row : rows) all.push_back(row_json(row, flags));
    report = all.dump(2) + "\n";
  } else {
    for (const auto& row : rows) report += row_json(row, flags).dump() + "\n";
  }
  if (flags.out_file.empty()) {
    fmt::print("{}", report);
  } else {
    std::ofstream out(flags.out_file);
    if (!out) fail("cannot write --out {}: check the directory exists and is writable", flags.out_file);
    out << report;
  }
  if (interrupted) fmt::print(stderr, "eaq: eval interrupted (SIGINT); the report covers the items run before it\n");
  if (!failed_precisions.empty() && !interrupted) {
    std::string why;
    for (const auto& [name, message] : failed_precisions) why += fmt::format("\n  {}: {}", name, message);
    fail("{} of {} precisions could not be loaded (the report above has the others):{}", failed_precisions.size(),
         precisions.size(), why);
  }
  return interrupted;
}

}  // namespace

void register_eval_command(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  auto* cmd = app.add_subcommand("eval", "Accuracy tasks (lm-evaluation-harness prompts and metrics) with time and energy per task");
  add_engine_flags(*cmd, flags->engine);
  cmd->add_option("--task", flags->tasks, "Comma-separated tasks, e.g. arc_easy,hellaswag,mmlu (--list-tasks)");
  cmd->add_flag("--list-tasks", flags->list_tasks, "List the tasks and exit");
  cmd->add_option("--limit", flags->limit, "First N items of each task (per subject for mmlu, as lm-eval)");
  cmd->add_option("--seed", flags->seed, "Seed for any random choice a task makes (few-shot sampling)")->capture_default_str();
  cmd->add_option("--num-fewshot", flags->num_fewshot, "Few-shot examples (default: each task's own)");
  cmd->add_option("--data-dir", flags->data_dir, "Dataset folder (default: $EAQ_DATA_DIR); layout in docs/eval.md");
  cmd->add_option("-o,--format", flags->format, "Report format: md, json or jsonl")->capture_default_str();
  cmd->add_option("--out", flags->out_file, "Write the report to this file instead of stdout");
  cmd->add_option("--items-out", flags->items_out, "Write one JSON line per item (prompt, choices, scores, verdict)");
  cmd->add_flag("--skip-bad", flags->skip_bad, "Skip malformed dataset rows (counted) instead of failing");
  cmd->add_option("--batch", flags->batch, "Continuations scored together (sequence slots)")->capture_default_str();
  cmd->add_option("--energy", flags->energy, "auto (meter each task with the meters found) or off")->capture_default_str();
  cmd->add_option("--idle", flags->idle_s, "Seconds of idle baseline measured before the tasks (0: none, energy is gross)");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress bar on stderr");
  cmd->callback([flags] {
    if (run_eval(*flags)) {
      std::fflush(stdout);
      std::_Exit(130);  // the conventional status of a run ended by SIGINT; outputs are closed
    }
  });
}

}  // namespace eaq::cli
