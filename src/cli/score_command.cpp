// `eaq score MODEL --context C --continuation X [--continuation Y ...]`: the log-likelihood of each
// continuation given the context and whether it is the greedy continuation (lm-eval's
// loglikelihood request; the context's keys and values are computed once and shared).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "core/error.h"
#include "eval/request_encoding.h"

namespace eaq::cli {

namespace {

struct ScoreFlags {
  EngineFlags engine;
  std::string context;
  std::vector<std::string> continuations;
  bool json = false;
};

void run_score(const ScoreFlags& f) {
  if (f.continuations.empty()) fail("give at least one --continuation to score");
  auto engine = load_engine(f.engine, static_cast<std::int64_t>(f.continuations.size()));
  // lm-eval's request encoding (HFLM._encode_pair): see eval/request_encoding.h.
  const auto request = eval::encode_loglikelihood_request(*engine.tokenizer, f.context, f.continuations);
  auto scores = engine.session->score(request.context_ids, request.continuation_ids);
  if (f.json) {
    fmt::print("[");
    for (std::size_t i = 0; i < scores.size(); ++i) {
      fmt::print("{}{{\"continuation\": {}, \"log_likelihood\": {:.6f}, \"is_greedy\": {}, \"n_tokens\": {}}}",
                 i ? ", " : "", json_quote(f.continuations[i]), scores[i].log_likelihood,
                 scores[i].is_greedy ? "true" : "false", scores[i].n_tokens);
    }
    fmt::print("]\n");
    return;
  }
  // The columns: the continuation's log-likelihood (natural log, summed over its tokens), whether
  // each of its tokens is the model's greedy pick, its token count, the text.
  fmt::print("{:>12}  {:<6}  {:>7}  {}\n", "log-lik", "greedy", "tokens", "continuation");
  for (std::size_t i = 0; i < scores.size(); ++i) {
    fmt::print("{:>12.4f}  {:<6}  {:>3} tok  {}\n", scores[i].log_likelihood, scores[i].is_greedy ? "greedy" : "-",
               scores[i].n_tokens, f.continuations[i]);
  }
}

}  // namespace

void register_score_command(CLI::App& app) {
  auto flags = std::make_shared<ScoreFlags>();
  auto* cmd = app.add_subcommand("score", "Log-likelihood of continuations given a context");
  add_engine_flags(*cmd, flags->engine);
  cmd->add_option("--context", flags->context, "The context text")->required();
  cmd->add_option("--continuation", flags->continuations, "A continuation to score (repeatable)")->required();
  cmd->add_flag("--json", flags->json, "Print JSON");
  cmd->callback([flags] { run_score(*flags); });
}

}  // namespace eaq::cli
