// `eaq synth --config config.json [--dtype f16|bf16|f32] [--seed N] -o OUT_DIR`: writes a
// random-initialised model of a real architecture (Hugging Face folder: config.json +
// model.safetensors, loadable by eaq and by transformers), flagged synthetic, so speed and energy
// can be measured for models whose weights are not at hand.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "io/hf_config.h"
#include "model/synthetic_model.h"
#include "tokenizer/tokenizer_factory.h"

namespace eaq::cli {

namespace {

struct SynthFlags {
  std::string config_path;
  std::string out_dir;
  std::string dtype = "f16";
  std::uint64_t seed = 0;
  int n_threads = 0;
  std::string tokenizer_path;
};

// Copies a tokenizer.json (and its tokenizer_config.json, when beside it) into the model folder,
// after checking it loads and that its ids fit the model's vocabulary.
void check_tokenizer(const std::string& tokenizer_path, std::int64_t vocab_size) {
  namespace fs = std::filesystem;
  const auto tokenizer = tokenizer::load_tokenizer_file(tokenizer_path);
  if (tokenizer->vocab_size() > vocab_size) {
    fail("--tokenizer '{}' has {} tokens but the config's vocab_size is {}: its ids would index past the "
         "embedding table; use the tokenizer of this architecture",
         tokenizer_path, tokenizer->vocab_size(), vocab_size);
  }
  if (fs::path(tokenizer_path).filename() != "tokenizer.json") {
    fail("--tokenizer '{}': eaq synth copies a Hugging Face tokenizer.json (other formats: pass --tokenizer "
         "to the commands that run the model)",
         tokenizer_path);
  }
}

void copy_tokenizer(const std::string& tokenizer_path, const std::string& out_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::copy_file(tokenizer_path, fs::path(out_dir) / "tokenizer.json", fs::copy_options::overwrite_existing, ec);
  if (ec) fail("cannot copy '{}' into '{}': {}", tokenizer_path, out_dir, ec.message());
  const fs::path config = fs::path(tokenizer_path).parent_path() / "tokenizer_config.json";
  if (fs::exists(config)) {
    fs::copy_file(config, fs::path(out_dir) / "tokenizer_config.json", fs::copy_options::overwrite_existing, ec);
    if (ec) fail("cannot copy '{}' into '{}': {}", config.string(), out_dir, ec.message());
  }
}

DType parse_dtype(const std::string& name) {
  if (name == "f16" || name == "fp16") return DType::F16;
  if (name == "bf16") return DType::BF16;
  if (name == "f32" || name == "fp32") return DType::F32;
  fail("--dtype '{}' is not one eaq synth writes; choose f16, bf16 or f32 (quantize the result with eaq's "
       "--weights or eaq quantize)",
       name);
}

void run_synth(const SynthFlags& f) {
  model::SynthOptions o;
  o.config_path = f.config_path;
  o.out_dir = f.out_dir;
  o.dtype = parse_dtype(f.dtype);
  o.seed = f.seed;
  o.n_threads = f.n_threads;
  if (!f.tokenizer_path.empty()) {  // checked before gigabytes are written
    check_tokenizer(f.tokenizer_path, model::config_from_hf(io::HfConfig::open(f.config_path)).vocab_size);
  }
  const auto start = std::chrono::steady_clock::now();
  int last_percent = -1;
  const model::SynthSummary s = model::write_synthetic_model(o, [&](std::uint64_t done, std::uint64_t total) {
    const int percent = total ? static_cast<int>(100 * done / total) : 100;
    if (percent != last_percent) fmt::print(stderr, "\r[eaq] synth: {}%", percent);
    last_percent = percent;
  });
  fmt::print(stderr, "\n");
  if (!f.tokenizer_path.empty()) copy_tokenizer(f.tokenizer_path, f.out_dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("wrote SYNTHETIC {} model to {}/ (config.json + model.safetensors): {} layers, hidden {}, "
             "{} parameters in {} tensors, {:.2f} GiB {}, seed {}, {:.1f} s\n",
             s.config.source_architecture, f.out_dir, s.config.n_layers, s.config.hidden_size,
             s.n_parameters, s.n_tensors, s.n_bytes / double(1ull << 30), f.dtype, f.seed, seconds);
}

}  // namespace

void register_synth_command(CLI::App& app) {
  auto flags = std::make_shared<SynthFlags>();
  auto* cmd = app.add_subcommand("synth", "Write a random-initialised (synthetic) model from a config.json");
  cmd->add_option("--config", flags->config_path, "Hugging Face config.json of the architecture")->required();
  cmd->add_option("-o,--output", flags->out_dir, "Output folder (config.json + model.safetensors)")->required();
  cmd->add_option("--dtype", flags->dtype, "Stored dtype: f16, bf16 or f32")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Random seed")->capture_default_str();
  cmd->add_option("--tokenizer", flags->tokenizer_path,
                  "A tokenizer.json to copy beside the weights (e.g. the architecture's real one)");
  cmd->add_option("-t,--threads", flags->n_threads, "Threads generating values (default: all)");
  cmd->callback([flags] { run_synth(*flags); });
}

}  // namespace eaq::cli
