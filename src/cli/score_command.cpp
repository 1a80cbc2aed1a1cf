// `eaq score MODEL --context C --continuation X [--continuation Y ...]`: the log-likelihood of each
// continuation given the context and whether it is the greedy continuation (lm-eval's
// loglikelihood request; the context's keys and values are computed once and shared).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "core/error.h"

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
  const auto& tok = *engine.tokenizer;
  // As lm-eval (HFLM._encode_pair): trailing spaces of the context move to the continuation,
  // then context + continuation is encoded whole and the continuation is what follows the
  // context's own token count.
  std::string context = f.context;
  std::string moved;
  while (!context.empty() && context.back() == ' ') {
    moved += ' ';
    context.pop_back();
  }
  std::vector<std::int32_t> context_ids = tok.encode(context, true);
  if (context_ids.empty()) {
    if (tok.bos_id() < 0) fail("the context is empty and the tokenizer has no BOS token to stand for it");
    context_ids.push_back(tok.bos_id());
  }
  std::vector<std::vector<std::int32_t>> continuation_ids;
  for (const auto& c : f.continuations) {
    std::vector<std::int32_t> whole = tok.encode(context + moved + c, true);
    if (whole.size() <= context_ids.size()) fail("continuation '{}' adds no tokens to the context", c);
    continuation_ids.emplace_back(whole.begin() + static_cast<std::ptrdiff_t>(context_ids.size()), whole.end());
  }
  auto scores = engine.session->score(context_ids, continuation_ids);
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
