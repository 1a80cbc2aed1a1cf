// `eaq quantize IN.gguf (--scheme S | --plan P.yaml | --budget-bpw B) -o OUT.gguf`: rewrites a
// GGUF model with its weight matrices quantized per a scheme's defaults, a YAML precision plan, or
// an automatic mixed plan (per-layer sensitivity on calibration text, greedy under the budget).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/text_input.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "quant/gguf_quantizer.h"
#include "quant/scheme_registry.h"
#include "runtime/mixed_precision_search.h"

namespace eaq::cli {

namespace {

struct QuantizeFlags {
  std::string in_path;
  std::string out_path;
  std::string scheme;
  std::string plan_path;
  double budget_bpw = 0;
  std::string high_scheme = "int8";
  std::string low_scheme = "int4-g32";
  std::vector<std::string> calibration_files;
  std::int64_t calibration_tokens = 256;
  std::string plan_out;
  int n_threads = 0;
  bool verbose = false;
};

quant::PrecisionPlan automatic_plan(const QuantizeFlags& f) {
  runtime::MixedPlanOptions o;
  o.model_path = f.in_path;
  o.high_scheme = f.high_scheme;
  o.low_scheme = f.low_scheme;
  o.budget_bits_per_weight = f.budget_bpw;
  o.calibration_tokens = f.calibration_tokens;
  o.n_threads = f.n_threads > 0 ? f.n_threads : ThreadPool::default_threads();
  o.calibration_text = read_texts_or_project_docs(f.calibration_files, "calibration");
  auto result = runtime::search_mixed_plan(o, [](std::int64_t done, std::int64_t total) {
    fmt::print(stderr, "\r[eaq] layer sensitivity: {}/{}", done, total);
  });
  fmt::print(stderr, "\n");
  fmt::print("| layer | mean KLD (layer at {}) | bits saved | chosen |\n|---|---|---|---|\n", f.low_scheme);
  for (const auto& l : result.layers) {
    fmt::print("| {} | {:.3e} | {:.0f} | {} |\n", l.layer, l.mean_kl_divergence, l.bits_saved,
               l.demoted ? f.low_scheme : f.high_scheme);
  }
  fmt::print("plan: {:.3f} bits/weight (budget {:.3f}; all {} {:.3f}, all {} {:.3f})\n", result.bits_per_weight,
             f.budget_bpw, f.high_scheme, result.high_bits_per_weight, f.low_scheme, result.low_bits_per_weight);
  if (!f.plan_out.empty()) {
    std::ofstream out(f.plan_out);
    if (!out) fail("cannot write the plan to '{}'", f.plan_out);
    out << "# eaq mixed precision plan: " << result.plan.source << "\n" << result.plan.to_yaml();
  }
  return result.plan;
}

void run_quantize(const QuantizeFlags& f) {
  const int choices = !f.scheme.empty() + !f.plan_path.empty() + (f.budget_bpw > 0);
  if (choices != 1) {
    fail("give exactly one of --scheme ({}), --plan FILE or --budget-bpw BITS", quant::scheme_names());
  }
  if (f.in_path == f.out_path) fail("-o must name a new file, not the input '{}'", f.in_path);
  const quant::PrecisionPlan plan = f.budget_bpw > 0         ? automatic_plan(f)
                                    : !f.plan_path.empty() ? quant::PrecisionPlan::from_yaml_file(f.plan_path)
                                                           : quant::PrecisionPlan::for_scheme(f.scheme);
  auto summary = quant::quantize_gguf_file(f.in_path, f.out_path, plan, [&](const std::string& name, DType from, DType to) {
    if (f.verbose) fmt::print("{:<32} {} → {}\n", name, dtype_name(from), dtype_name(to));
  });
  fmt::print("wrote {}: {} tensors ({} re-encoded), matrices at {:.3f} bits/weight, plan {}\n", f.out_path,
             summary.n_tensors, summary.n_quantized, summary.bits_per_weight(), plan.describe());
}

}  // namespace

void register_quantize_command(CLI::App& app) {
  auto flags = std::make_shared<QuantizeFlags>();
  auto* cmd = app.add_subcommand("quantize", "Write a GGUF model with its weights quantized to a scheme or plan");
  cmd->add_option("IN", flags->in_path, "Input .gguf model")->required();
  cmd->add_option("-o,--output", flags->out_path, "Output .gguf file")->required();
  cmd->add_option("--scheme", flags->scheme, "Scheme: " + quant::scheme_names());
  cmd->add_option("--plan", flags->plan_path, "YAML precision plan (tensor-name pattern → scheme)");
  cmd->add_option("--budget-bpw", flags->budget_bpw,
                  "Automatic mixed plan: bits per weight of all matrices (per-layer sensitivity on calibration text)");
  cmd->add_option("--high", flags->high_scheme, "Mixed plan: the scheme of sensitive layers")->capture_default_str();
  cmd->add_option("--low", flags->low_scheme, "Mixed plan: the scheme of the others")->capture_default_str();
  cmd->add_option("--calibration", flags->calibration_files, "Mixed plan: calibration text files (default: the project's docs)");
  cmd->add_option("--calibration-tokens", flags->calibration_tokens, "Mixed plan: tokens of calibration text")
      ->capture_default_str();
  cmd->add_option("--plan-out", flags->plan_out, "Mixed plan: also write the chosen plan as YAML");
  cmd->add_option("-t,--threads", flags->n_threads, "CPU threads for the sensitivity runs");
  cmd->add_flag("-v,--verbose", flags->verbose, "Print each tensor's dtype change");
  cmd->callback([flags] { run_quantize(*flags); });
}

}  // namespace eaq::cli
