// `eaq data pull TASK` (download a task's canonical dataset files with sha256 checks and resume)
// and `eaq data list` (what can be pulled, from where, pinned or not).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "eval/data_pull.h"

namespace eaq::cli {
namespace {

std::filesystem::path default_cache_dir() {
  if (const char* dir = std::getenv("EAQ_DATA_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache != '\0') {
    return std::filesystem::path(cache) / "eaq" / "datasets";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "eaq" / "datasets";
  }
  return "eaq-datasets";
}

}  // namespace

void register_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Dataset files: pull the canonical copies, list the sources");
  data->require_subcommand(1);

  struct PullFlags {
    std::string task;
    std::string cache_dir;
    eval::PullOptions options;
    bool json = false;
  };
  auto pull_flags = std::make_shared<PullFlags>();
  auto* pull = data->add_subcommand(
      "pull", "Download TASK's canonical files into <cache-dir>/<task>/ (sha256-checked, resumable); "
              "use the cache dir as `eaq eval --data-dir`");
  pull->add_option("task", pull_flags->task, "gsm8k, mbpp, math500, hellaswag, truthfulqa, arc, mmlu or sst2")
      ->required();
  pull->add_option("--cache-dir", pull_flags->cache_dir,
                   "Where to put the files (default: $EAQ_DATA_DIR, else ~/.cache/eaq/datasets)");
  pull->add_option("--url-base", pull_flags->options.url_base,
                   "Fetch <url-base>/<task>/<file> instead of the canonical URL (a mirror)");
  pull->add_flag("--no-verify", pull_flags->options.no_verify,
                 "Accept files that have no pinned sha256 (their sha256 is still printed and recorded)");
  pull->add_flag("--force", pull_flags->options.force, "Download again even when the file is present");
  pull->add_option("--attempts", pull_flags->options.max_attempts,
                   "Attempts per file, each resuming the previous one's .part (default 3)");
  pull->add_option("--curl", pull_flags->options.curl, "The curl program to run (default: curl on PATH)");
  pull->add_flag("--json", pull_flags->json, "Print the result as JSON");
  pull->callback([pull_flags] {
    PullFlags& flags = *pull_flags;
    flags.options.cache_dir = flags.cache_dir.empty() ? default_cache_dir() : std::filesystem::path(flags.cache_dir);
    const eval::DatasetSource& source = eval::find_dataset_source(flags.task);
    nlohmann::json files = nlohmann::json::array();
    eval::pull_dataset(source, flags.options, [&](const eval::PulledFile& file) {
      files.push_back({{"path", file.path.string()},
                       {"sha256", file.sha256},
                       {"bytes", file.bytes},
                       {"verified", file.verified},
                       {"already_present", file.already_present},
                       {"resumed_from_bytes", file.resumed_from_bytes}});
      if (!flags.json) {
        fmt::print("{}  {} ({} bytes{}{}{})\n", file.sha256, file.path.string(), file.bytes,
                   file.verified ? ", sha256 verified" : ", UNVERIFIED: no pinned sha256",
                   file.already_present ? ", already present" : "",
                   file.resumed_from_bytes > 0 ? fmt::format(", resumed from byte {}", file.resumed_from_bytes) : "");
      }
    });
    if (flags.json) {
      fmt::print("{}\n", nlohmann::json{{"task", source.task},
                                        {"cache_dir", flags.options.cache_dir.string()},
                                        {"files", files}}
                             .dump(2));
    } else {
      for (const eval::DatasetFile& file : source.files) {
        if (file.archive) fmt::print("note: {}: {}\n", file.path, file.note);
      }
      fmt::print("data: {} ready under {} (use --data-dir {})\n", source.task,
                 flags.options.cache_dir.string(), flags.options.cache_dir.string());
    }
  });

  auto list_json = std::make_shared<bool>(false);
  auto* list = data->add_subcommand("list", "List the datasets `eaq data pull` knows, their URLs and sha256");
  list->add_flag("--json", *list_json, "Print as JSON");
  list->callback([list_json] {
    nlohmann::json sources = nlohmann::json::array();
    for (const eval::DatasetSource& source : eval::dataset_sources()) {
      nlohmann::json files = nlohmann::json::array();
      for (const eval::DatasetFile& file : source.files) {
        files.push_back({{"path", file.path},
                         {"url", file.url},
                         {"sha256", file.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(file.sha256)},
                         {"archive", file.archive},
                         {"note", file.note}});
      }
      sources.push_back({{"task", source.task}, {"description", source.description}, {"files", files}});
      if (!*list_json) {
        fmt::print("{}: {}\n", source.task, source.description);
        for (const eval::DatasetFile& file : source.files) {
          fmt::print("  {}\n    {}\n    sha256: {}\n", file.path, file.url,
                     file.sha256.empty() ? "(not pinned: " + file.note + ")" : file.sha256);
        }
      }
    }
    if (*list_json) fmt::print("{}\n", sources.dump(2));
  });
}

}  // namespace eaq::cli
