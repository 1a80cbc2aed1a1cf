// `eaq quality MODEL --precision a,b,c [--reference f32] [--text FILE] [--chunk 512] [--chunks N]
// [--json]`: perplexity, Δppl, mean / p99 / max KL divergence against the reference precision's
// token distributions and top-1 agreement (llama.cpp's KL-divergence methodology). The default
// text is what the project itself ships: README.md and docs/*.md.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/text_input.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "runtime/quality_run.h"

namespace eaq::cli {

namespace {

struct QualityFlags {
  std::string model_path;
  std::string precisions = "f16,bf16";
  std::string reference = "f32";
  std::vector<std::string> text_files;
  std::int64_t chunk_tokens = 512;
  std::int64_t max_chunks = 0;
  int n_threads = 0;
  bool json = false;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void run_quality_command(const QualityFlags& f) {
  runtime::QualityRunOptions o;
  o.model_path = f.model_path;
  o.precisions = split_list(f.precisions);
  o.reference = f.reference;
  o.chunk_tokens = f.chunk_tokens;
  o.max_chunks = f.max_chunks;
  if (f.n_threads < 0) fail("--threads {} is invalid", f.n_threads);
  o.n_threads = f.n_threads > 0 ? f.n_threads : ThreadPool::default_threads();
  o.text = read_texts_or_project_docs(f.text_files, "text");

  auto report = runtime::run_quality(o, [&](std::int64_t done, std::int64_t total) {
    if (!f.json) fmt::print(stderr, "\r[eaq] quality: chunk {}/{}", done, total);
  });
  if (!f.json) fmt::print(stderr, "\n");
  if (f.json) {
    fmt::print("{{\"model\": {}, \"reference\": \"{}\", \"text_tokens\": {}, \"chunks\": {}, \"chunk_tokens\": {}, \"rows\": [",
               json_quote(f.model_path), report.reference, report.n_text_tokens, report.n_chunks, f.chunk_tokens);
    for (std::size_t i = 0; i < report.rows.size(); ++i) {
      const auto& r = report.rows[i];
      const auto& s = r.summary;
      fmt::print("{}{{\"precision\": \"{}\", \"positions\": {}, \"perplexity\": {:.6f}, \"perplexity_reference\": {:.6f}, "
                 "\"delta_perplexity\": {:.6f}, \"mean_kl_divergence\": {:.6e}, \"p99_kl_divergence\": {:.6e}, "
                 "\"max_kl_divergence\": {:.6e}, \"top1_agreement\": {:.6f}, \"elapsed_s\": {:.3f}}}",
                 i ? ", " : "", r.precision, s.n_positions, s.perplexity, s.perplexity_reference, s.delta_perplexity,
                 s.mean_kl_divergence, s.p99_kl_divergence, s.max_kl_divergence, s.top1_agreement, r.elapsed_s);
    }
    fmt::print("]}}\n");
    return;
  }
  fmt::print("model {} — reference {} — {} text tokens, {} chunks of {} (second half of each chunk scored)\n\n",
             f.model_path, report.reference, report.n_text_tokens, report.n_chunks, f.chunk_tokens);
  fmt::print("| precision | positions | ppl | Δppl | mean KLD | p99 KLD | max KLD | top-1 agree |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : report.rows) {
    const auto& s = r.summary;
    fmt::print("| {} | {} | {:.4f} | {:+.4f} | {:.3e} | {:.3e} | {:.3e} | {:.2f}% |\n", r.precision, s.n_positions,
               s.perplexity, s.delta_perplexity, s.mean_kl_divergence, s.p99_kl_divergence, s.max_kl_divergence,
               100 * s.top1_agreement);
  }
}

}  // namespace

void register_quality_command(CLI::App& app) {
  auto flags = std::make_shared<QualityFlags>();
  auto* cmd = app.add_subcommand("quality", "Perplexity, KL divergence and top-1 agreement of precisions vs a reference");
  cmd->add_option("MODEL,-m,--model", flags->model_path, "A .gguf file, an HF model directory or a llama2.c .bin")->required();
  cmd->add_option("--precision", flags->precisions, "Comma-separated precisions to compare")->capture_default_str();
  cmd->add_option("--reference", flags->reference, "Reference precision")->capture_default_str();
  cmd->add_option("--text", flags->text_files, "Text file(s) to score (default: the project's README and docs)");
  cmd->add_option("--chunk", flags->chunk_tokens, "Tokens per chunk")->capture_default_str();
  cmd->add_option("--chunks", flags->max_chunks, "At most this many chunks (0 = all)")->capture_default_str();
  cmd->add_option("-t,--threads", flags->n_threads, "CPU threads");
  cmd->add_flag("--json", flags->json, "Print JSON");
  cmd->callback([flags] { run_quality_command(*flags); });
}

}  // namespace eaq::cli
