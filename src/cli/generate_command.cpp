// `eaq generate MODEL [-p TEXT | -f FILE] [--chat] [-n N] [sampling flags] [--threads N]`:
// streams generated text to stdout and ends with prompt / decode speed on stderr.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/text_input.h"
#include "core/error.h"
#include "runtime/generation.h"
#include "tokenizer/tokenizer.h"

namespace eaq::cli {

namespace {

struct GenerateFlags {
  EngineFlags engine;
  std::string prompt;
  std::string prompt_file;
  bool chat = false;
  std::string system_prompt;
  std::int64_t n_predict = 128;
  bool truncate = false;
  bool ignore_eos = false;
  std::vector<std::string> stop_strings;
  runtime::SamplingParams sampling;
  bool json = false;
};

void run_generate(const GenerateFlags& f) {
  if (!f.prompt.empty() && !f.prompt_file.empty()) fail("give either -p TEXT or -f FILE, not both");
  std::string text = f.prompt_file.empty() ? f.prompt : read_text_file(f.prompt_file, "prompt");
  if (text.empty() && !f.chat) fail("nothing to continue: give a prompt with -p TEXT or -f FILE");
  if (f.n_predict < 0) fail("-n {} is invalid: use 0 or more tokens to generate", f.n_predict);
  f.sampling.validate();

  runtime::Engine engine = load_engine(f.engine);
  const auto& tok = *engine.tokenizer;
  std::vector<std::int32_t> prompt_ids;
  if (f.chat) {
    prompt_ids = engine.chat_prompt_ids(f.system_prompt, text);
  } else {
    prompt_ids = tok.encode(text, true);
  }
  if (prompt_ids.empty()) fail("the prompt encodes to no tokens");
  prompt_ids = runtime::fit_prompt(prompt_ids, engine.session->context_size(), f.n_predict, f.truncate);

  runtime::GenerationOptions options;
  options.max_new_tokens = f.n_predict;
  options.sampling = f.sampling;
  options.stop_strings = f.stop_strings;
  if (!f.ignore_eos) options.stop_tokens = engine.stop_token_ids();

  tokenizer::StreamingDecoder decoder(tok, /*skip_special_tokens=*/true);
  if (!f.json) {
    std::fwrite(text.data(), 1, f.chat ? 0 : text.size(), stdout);
    std::fflush(stdout);
  }
  auto result = runtime::generate(
      *engine.session, prompt_ids, options, [&](std::int32_t id) { return decoder.feed(id); },
      [&](std::string_view piece) {
        if (f.json) return;
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      });
  const double prompt_tps = result.prefill_s > 0 ? result.prompt_tokens / result.prefill_s : 0;
  const auto n_decoded = static_cast<double>(result.inter_token_latency_s.size());
  const double decode_tps = result.decode_s > 0 ? n_decoded / result.decode_s : 0;
  if (f.json) {
    fmt::print("{{\"text\": {}, \"prompt_tokens\": {}, \"generated_tokens\": {}, \"stop_reason\": \"{}\", "
               "\"prompt_tokens_per_s\": {:.3f}, \"decode_tokens_per_s\": {:.3f}, \"time_to_first_token_s\": {:.6f}, "
               "\"tokens\": [{}]}}\n",
               json_quote(result.text), result.prompt_tokens, result.tokens.size(), result.stop_reason, prompt_tps,
               decode_tps, result.time_to_first_token_s, fmt::join(result.tokens, ", "));
  } else {
    fmt::print("\n");
    fmt::print(stderr,
               "\n[eaq] {} prompt tokens in {:.3f} s ({:.1f} tok/s); {} tokens generated, decode {:.1f} tok/s; "
               "stop: {}; weights {}, {} threads\n",
               result.prompt_tokens, result.prefill_s, prompt_tps, result.tokens.size(), decode_tps,
               result.stop_reason, engine.weights_description, engine.n_threads);
  }
}

}  // namespace

void register_generate_command(CLI::App& app) {
  auto flags = std::make_shared<GenerateFlags>();
  auto* cmd = app.add_subcommand("generate", "Generate text from a prompt (streams to stdout)");
  add_engine_flags(*cmd, flags->engine);
  cmd->add_option("-p,--prompt", flags->prompt, "Prompt text");
  cmd->add_option("-f,--file", flags->prompt_file, "Read the prompt from a file");
  cmd->add_flag("--chat", flags->chat, "Wrap the prompt as a user turn with the model's chat template");
  cmd->add_option("--system", flags->system_prompt, "System prompt for --chat");
  cmd->add_option("-n,--n-predict", flags->n_predict, "Tokens to generate")->capture_default_str();
  cmd->add_flag("--truncate", flags->truncate, "Keep the last tokens of a prompt longer than the context instead of failing");
  cmd->add_flag("--ignore-eos", flags->ignore_eos, "Do not stop at end-of-sequence tokens");
  cmd->add_option("--stop", flags->stop_strings, "Stop when the generated text contains this string (repeatable)");
  cmd->add_option("--temp", flags->sampling.temperature, "Temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", flags->sampling.top_k, "Top-k; 0 = off")->capture_default_str();
  cmd->add_option("--top-p", flags->sampling.top_p, "Top-p (nucleus); 1 = off")->capture_default_str();
  cmd->add_option("--min-p", flags->sampling.min_p, "Min-p; 0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", flags->sampling.repetition_penalty, "Repetition penalty; 1 = off")->capture_default_str();
  cmd->add_option("--repeat-last-n", flags->sampling.repetition_last_n, "Tokens the penalty looks back over")->capture_default_str();
  cmd->add_option("--seed", flags->sampling.seed, "Random seed")->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print one JSON object (text, tokens, speeds) instead of streaming");
  cmd->callback([flags] { run_generate(*flags); });
}

}  // namespace eaq::cli
