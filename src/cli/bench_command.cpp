// `eaq bench [-m MODEL] [--precision LIST] [-p 512] [-n 128] [-r 5] [--device cpu|cuda[:N]]
// [--threads N] [-o md|csv|json|jsonl|sqlite] [--out FILE]`: speed × energy × quality per precision
// (docs/bench.md). The markdown table goes to stdout; machine formats to --out (or stdout when no
// --out is given, except sqlite, which needs a file). Rows reach jsonl and sqlite outputs as soon as
// they are measured; SIGINT stops the run between tokens and still prints what was measured.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/sigint_stop.h"
#include "cli/text_input.h"
#include "core/error.h"
#include "experiment/bench_rows.h"
#include "experiment/bench_runner.h"
#include "experiment/bench_summary.h"
#include "experiment/bench_table.h"
#include "report/csv_rows.h"
#include "report/json_rows.h"
#include "report/progress_bar.h"
#include "report/sqlite_result_store.h"

namespace eaq::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kEmbeddedModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

// With no model and none of -p/-n/-r/--precision given, the quick profile: every precision in
// about two minutes on a 2-core CPU (measured, docs/bench.md).
constexpr std::int64_t kQuickPrompt = 64;
constexpr std::int64_t kQuickGen = 16;
constexpr int kQuickRepetitions = 3;
constexpr double kQuickIdle = 2.0;
constexpr double kQuickCooldown = 0.5;

struct BenchFlags {
  std::string model_path;
  std::string precisions;
  std::int64_t n_prompt = 512;
  std::int64_t n_gen = 128;
  int repetitions = 5;
  std::string device = "cpu";
  int n_threads = 0;
  std::string format = "md";
  std::string out_file;
  std::string reference = "f32";
  bool no_quality = false;
  std::int64_t quality_chunk = 128;
  std::int64_t quality_chunks = 2;
  std::vector<std::string> quality_text_files;
  std::vector<std::string> prompt_files;
  double idle_s = 5.0;
  double cooldown_s = 2.0;
  std::string country, region;
  double pue = 1.0;
  double price_per_kwh = -1;
  bool no_progress = false;
  bool print_schema = false;
};

// The embedded model: beside the binary's parent (build/eaq → models/), then the source tree.
std::string find_embedded_model() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / kEmbeddedModel);
    candidates.push_back(exe.parent_path() / kEmbeddedModel);
  }
  candidates.push_back(fs::path(EAQ_SOURCE_ROOT) / kEmbeddedModel);
  for (const auto& c : candidates) {
    if (fs::exists(c, ec)) return c.string();
  }
  fail("the embedded model {} is not there (looked beside the binary and in {}): run scripts/fetch_models.sh, "
       "or give -m MODEL", kEmbeddedModel, EAQ_SOURCE_ROOT);
}

// Outputs chosen by -o / --out, opened before anything is measured so a bad path fails at once.
class BenchOutputs {
 public:
  BenchOutputs(const BenchFlags& f) : format_(f.format) {
    if (format_ != "md" && format_ != "csv" && format_ != "json" && format_ != "jsonl" && format_ != "sqlite") {
      fail("-o {} is not a format: use md, csv, json, jsonl or sqlite", format_);
    }
    if (format_ == "sqlite") {
      if (f.out_file.empty()) fail("-o sqlite needs --out FILE (the results database to append to)");
      store_ = std::make_unique<report::SqliteResultStore>(f.out_file);
      store_->ensure_table(experiment::measurement_schema());
      store_->ensure_table(experiment::summary_schema());
    } else if (!f.out_file.empty()) {
      file_ = std::make_unique<std::ofstream>(f.out_file, std::ios::trunc);
      if (!*file_) fail("cannot write --out {}: check that the directory exists and is writable", f.out_file);
    }
    out_name_ = f.out_file;
  }

  // Machine rows go to the file, or to stdout when there is none (then the table is not printed).
  bool table_on_stdout() const { return format_ == "md" ? file_ == nullptr : true; }
  bool machine_on_stdout() const { return format_ != "md" && format_ != "sqlite" && file_ == nullptr; }

  void measurement(const report::Row& row) {
    measurements_.push_back(row);
    const auto& schema = experiment::measurement_schema();
    if (store_) store_->insert(schema, row);
    if (format_ == "jsonl") emit(jsonl(schema, row));
  }

  void summary(const report::Row& row) {
    summaries_.push_back(row);
    const auto& schema = experiment::summary_schema();
    if (store_) store_->insert(schema, row);
    if (format_ == "jsonl") emit(jsonl(schema, row));
    if (format_ == "csv") {
      if (summaries_.size() == 1) emit(report::csv_header(schema));
      emit(report::csv_line(schema, row));
    }
  }

  void finish(const std::string& table) {
    if (format_ == "csv" && summaries_.empty()) emit(report::csv_header(experiment::summary_schema()));
    if (format_ == "json") {
      nlohmann::json doc = {{"schema_version", experiment::kResultsSchemaVersion}};
      for (const auto* rows : {&summaries_, &measurements_}) {
        const auto& schema = rows == &summaries_ ? experiment::summary_schema() : experiment::measurement_schema();
        doc[schema.name] = nlohmann::json::array();
        for (const auto& row : *rows) doc[schema.name].push_back(report::to_json(schema, row));
      }
      emit(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
    if (format_ == "md" && file_) emit(table);
    if (table_on_stdout() && !machine_on_stdout()) {
      fmt::print("{}", table);
      std::fflush(stdout);
    }
    if (file_) {
      file_->flush();
      if (!*file_) fail("error writing --out {} (disk full?)", out_name_);
    }
  }

 private:
  static std::string jsonl(const report::Schema& schema, const report::Row& row) {
    auto object = report::to_json(schema, row);
    object["table"] = schema.name;
    return report::jsonl_line(object);
  }
  void emit(const std::string& text) {
    if (file_) {
      *file_ << text;
      file_->flush();
    } else {
      fmt::print("{}", text);
      std::fflush(stdout);
    }
  }

  std::string format_;
  std::string out_name_;
  std::unique_ptr<report::SqliteResultStore> store_;
  std::unique_ptr<std::ofstream> file_;
  std::vector<report::Row> measurements_, summaries_;
};

experiment::BenchSpec make_spec(const BenchFlags& f, bool quick) {
  experiment::BenchSpec spec;
  spec.device = experiment::parse_device(f.device);
  spec.model_path = f.model_path.empty() ? find_embedded_model() : f.model_path;
  spec.precisions = f.precisions.empty() ? experiment::supported_precisions(spec.device) : experiment::split_list(f.precisions);
  if (!f.precisions.empty() && spec.precisions.empty()) fail("--precision '{}' names no precision", f.precisions);
  spec.n_prompt = quick ? kQuickPrompt : f.n_prompt;
  spec.n_gen = quick ? kQuickGen : f.n_gen;
  spec.repetitions = quick ? kQuickRepetitions : f.repetitions;
  spec.n_threads = f.n_threads;
  spec.idle_s = quick ? kQuickIdle : f.idle_s;
  spec.cooldown_s = quick ? kQuickCooldown : f.cooldown_s;
  spec.quality.enabled = !f.no_quality;
  spec.quality.reference = f.reference;
  spec.quality.chunk_tokens = f.quality_chunk;
  spec.quality.max_chunks = f.quality_chunks;
  spec.carbon.country = f.country;
  spec.carbon.region = f.region;
  spec.carbon.pue = f.pue;
  if (f.price_per_kwh >= 0) {
    spec.carbon.price_per_kwh = f.price_per_kwh;
    spec.carbon.price_given = true;
  }
  carbon::resolve_intensity(spec.carbon);  // an unknown country or region fails before the run
  experiment::validate(spec);
  // Texts last: reading the docs is pointless when a flag is wrong.
  if (spec.quality.enabled) spec.quality.text = read_texts_or_project_docs(f.quality_text_files, "quality");
  spec.prompt_text = f.prompt_files.empty() && spec.quality.enabled ? spec.quality.text
                                                                    : read_texts_or_project_docs(f.prompt_files, "prompt");
  return spec;
}

// Returns true when the run was interrupted.
bool run_bench_command(const BenchFlags& f, bool quick) {
  const auto spec = make_spec(f, quick);
  BenchOutputs outputs(f);

  const bool progress_enabled = !f.no_progress;
  report::ProgressBar bar(experiment::total_steps(spec), progress_enabled);
  if (progress_enabled) {
    fmt::print(stderr, "[eaq] bench: {} precision(s) x {} repetition(s) of -p {} -n {}{}; hashing the model, "
                       "measuring bandwidth, the reference's distributions and {:.1f} s of idle power first\n",
               spec.precisions.size(), spec.repetitions, spec.n_prompt, spec.n_gen, quick ? " (quick profile)" : "",
               spec.idle_s);
  }

  experiment::BenchResult result;
  {
    SigintStop sigint;
    experiment::BenchObserver observer;
    observer.stop = sigint.flag();
    observer.on_step = [&bar](std::int64_t done, const std::string& label) { bar.update(done, label); };
    observer.on_repetition = [&](const experiment::BenchContext& c, const experiment::PrecisionRun& run,
                                 const experiment::RepetitionMeasurement& m) {
      outputs.measurement(experiment::measurement_row(spec, c, run, m));
    };
    observer.on_precision = [&](const experiment::BenchContext& c, const experiment::PrecisionRun& run) {
      outputs.summary(experiment::summary_row(spec, c, run, experiment::summarize(spec, c, run)));
    };

    try {
      result = experiment::run_bench(spec, observer);
    } catch (...) {
      bar.finish();
      throw;
    }
  }  // the SIGINT handler is restored here
  bar.finish();

  std::vector<experiment::PrecisionSummary> summaries;
  for (const auto& run : result.precisions) summaries.push_back(experiment::summarize(spec, result.context, run));
  outputs.finish(experiment::bench_markdown(spec, result, summaries));
  if (result.interrupted) fmt::print(stderr, "eaq: bench interrupted (SIGINT); every row above was measured in full\n");
  if (!result.failures.empty() && !result.interrupted) {
    std::string names;
    for (const auto& failure : result.failures) names += (names.empty() ? "" : ", ") + failure.first;
    fail("{} of {} precisions could not run ({}): the reasons are under the table", result.failures.size(),
         spec.precisions.size(), names);
  }
  return result.interrupted;
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Speed, energy and quality of each precision of a model (docs/bench.md)");
  cmd->add_option("-m,--model", flags->model_path, std::string("A .gguf file, an HF directory or a llama2.c .bin (default: ") +
                                                       kEmbeddedModel + ")");
  cmd->add_option("--precision", flags->precisions, "Comma-separated precisions (default: every one the device runs)");
  auto* p = cmd->add_option("-p,--n-prompt", flags->n_prompt, "Prompt tokens per request")->capture_default_str();
  auto* n = cmd->add_option("-n,--n-gen", flags->n_gen, "Greedy decode steps per request")->capture_default_str();
  auto* r = cmd->add_option("-r,--repetitions", flags->repetitions, "Repetitions per precision")->capture_default_str();
  cmd->add_option("--device", flags->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("-t,--threads", flags->n_threads, "CPU threads (default: all cores, or EAQ_THREADS)");
  cmd->add_option("-o,--output", flags->format, "md, csv, json, jsonl or sqlite")->capture_default_str();
  cmd->add_option("--out", flags->out_file, "Write the -o format here (sqlite: the database to append to)");
  cmd->add_option("--reference", flags->reference, "Precision quality is measured against")->capture_default_str();
  cmd->add_flag("--no-quality", flags->no_quality, "Skip the quality check (EOR, TWEOR, top-1, KL stay empty)");
  cmd->add_option("--quality-chunk", flags->quality_chunk, "Tokens per quality chunk")->capture_default_str();
  cmd->add_option("--quality-chunks", flags->quality_chunks, "Quality chunks scored")->capture_default_str();
  cmd->add_option("--quality-text", flags->quality_text_files, "Text file(s) scored for quality (default: the project's docs)");
  cmd->add_option("--prompt-file", flags->prompt_files, "Text the prompt tokens come from (default: the quality text)");
  auto* idle = cmd->add_option("--idle", flags->idle_s, "Seconds of idle power measured first (0: none, gross energy)")->capture_default_str();
  auto* cool = cmd->add_option("--cooldown", flags->cooldown_s, "Seconds of pause between precisions")->capture_default_str();
  cmd->add_option("--country", flags->country, "Grid carbon intensity of this country (ISO code or name; default world average)");
  cmd->add_option("--region", flags->region, "Grid carbon intensity of this cloud region (e.g. europe-west9)");
  cmd->add_option("--pue", flags->pue, "Power usage effectiveness of the facility")->capture_default_str();
  cmd->add_option("--price-per-kwh", flags->price_per_kwh, "Electricity price (default: an assumed 0.15 USD)");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress on stderr");
  cmd->add_flag("--print-schema", flags->print_schema, "Print the result tables' columns (docs/results_schema.md) and exit");
  auto* precision = cmd->get_option("--precision");
  auto* model = cmd->get_option("--model");
  cmd->callback([flags, p, n, r, idle, cool, precision, model] {
    if (flags->print_schema) {
      fmt::print("{}", experiment::schema_markdown());
      return;
    }
    const bool quick = model->count() == 0 && precision->count() == 0 && p->count() == 0 && n->count() == 0 &&
                       r->count() == 0 && idle->count() == 0 && cool->count() == 0;
    if (run_bench_command(*flags, quick)) {
      std::fflush(stdout);
      std::_Exit(130);  // the conventional status of a run ended by SIGINT; outputs are closed
    }
  });
}

}  // namespace eaq::cli
