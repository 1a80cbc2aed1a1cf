// `eaq logits MODEL (-p TEXT | -f FILE | --ids ID...) -o OUT.f32`: runs the tokens through the
// model in one batched pass and writes the logits of every position as raw little-endian float32
// [n_tokens][vocab] — the input of external comparisons (llama.cpp, transformers, KL divergence).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/text_input.h"
#include "core/error.h"

namespace eaq::cli {

namespace {

struct LogitsFlags {
  EngineFlags engine;
  std::string prompt;
  std::string prompt_file;
  std::vector<std::int32_t> ids;
  std::string out_path;
  bool no_bos = false;
};

void run_logits(const LogitsFlags& f) {
  int sources = !f.prompt.empty() + !f.prompt_file.empty() + !f.ids.empty();
  if (sources != 1) fail("give exactly one of -p TEXT, -f FILE or --ids ID...");
  if (f.out_path.empty()) fail("give -o FILE for the logits");
  auto engine = load_engine(f.engine);
  std::vector<std::int32_t> ids = f.ids;
  if (ids.empty()) {
    std::string text = f.prompt;
    if (!f.prompt_file.empty()) text = read_text_file(f.prompt_file, "prompt");
    ids = engine.tokenizer->encode(text, !f.no_bos);
  }
  if (ids.empty()) fail("the input encodes to no tokens");
  const auto& logits = engine.session->prefill_all_logits(ids);
  std::string tmp = f.out_path + ".part";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) fail("cannot write '{}': check the directory exists and is writable", tmp);
    out.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!out) fail("writing '{}' failed (disk full?)", tmp);
  }
  if (std::rename(tmp.c_str(), f.out_path.c_str()) != 0) fail("cannot rename '{}' to '{}'", tmp, f.out_path);
  fmt::print("{{\"n_tokens\": {}, \"vocab_size\": {}, \"device\": {}, \"ids\": [{}]}}\n", ids.size(),
             engine.lm->vocab_size(), json_quote(engine.device_description), fmt::join(ids, ", "));
}

}  // namespace

void register_logits_command(CLI::App& app) {
  auto flags = std::make_shared<LogitsFlags>();
  auto* cmd = app.add_subcommand("logits", "Write the logits of every position of a text as float32");
  add_engine_flags(*cmd, flags->engine);
  cmd->add_option("-p,--prompt", flags->prompt, "Text");
  cmd->add_option("-f,--file", flags->prompt_file, "Read the text from a file");
  cmd->add_option("--ids", flags->ids, "Token ids instead of text");
  cmd->add_flag("--no-bos", flags->no_bos, "Do not add the tokenizer's special tokens (BOS)");
  cmd->add_option("-o,--out", flags->out_path, "Output file: raw float32 [n_tokens][vocab]")->required();
  cmd->callback([flags] { run_logits(*flags); });
}

}  // namespace eaq::cli
