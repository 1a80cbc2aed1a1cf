// Engine flags → runtime::EngineConfig, with errors that name the flag.
#include "cli/engine_flags.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/thread_pool.h"
#include "quant/scheme_registry.h"

namespace eaq::cli {

void add_engine_flags(CLI::App& cmd, EngineFlags& flags) {
  cmd.add_option("MODEL,-m,--model", flags.model_path, "A .gguf file, an HF model directory or a llama2.c .bin")
      ->required();
  cmd.add_option("--tokenizer", flags.tokenizer_path, "Tokenizer file to use instead of the model's own");
  cmd.add_option("-t,--threads", flags.n_threads, "CPU threads (default: all cores, or EAQ_THREADS)");
  cmd.add_option("-c,--ctx", flags.context_size, "Context size in tokens (default: the model's, capped at 4096)");
  cmd.add_option("--weights,--precision", flags.weight_dtype,
                 "Weight precision: auto (f32/f16/bf16 as stored, others → f32), native (the file's own formats "
                 "computed directly), f32, f16, bf16, or a scheme: " + quant::scheme_names())
      ->capture_default_str();
  cmd.add_option("--plan", flags.plan_path, "A YAML precision plan (tensor-name pattern → scheme); overrides --weights");
  cmd.add_option("--kv", flags.kv_dtype, "KV cache precision: f32 or f16")->capture_default_str();
  cmd.add_option("--device", flags.device,
                 "Where the model runs: cpu, or cuda[:N] (the CUDA backend; its KV cache is f16 and f32 weights "
                 "go up as f16)")
      ->capture_default_str();
  cmd.add_option("--activations", flags.activations,
                 "Activations of matmuls on Q8_0/Q4_0/Q4_1 weights: f32 (eaq's default: equals f32 on the dequantized "
                 "weights) or q8 (quantized per row to 8-bit blocks of 32, as ggml's reference vec_dot code does; CPU only)")
      ->capture_default_str();
}

runtime::Engine load_engine(const EngineFlags& flags, std::int64_t n_slots) {
  runtime::EngineConfig config;
  config.model_path = flags.model_path;
  config.tokenizer_path = flags.tokenizer_path;
  if (flags.n_threads < 0) fail("--threads {} is invalid: use a positive count", flags.n_threads);
  config.n_threads = flags.n_threads > 0 ? flags.n_threads : ThreadPool::default_threads();
  if (flags.context_size < 0) fail("--ctx {} is invalid: use a positive size", flags.context_size);
  config.context_size = flags.context_size;
  config.n_slots = n_slots;
  config.plan_path = flags.plan_path;
  check_weight_precision(flags.weight_dtype);
  if (flags.weight_dtype != "auto") {
    auto d = dtype_from_name(flags.weight_dtype);
    if (d && (*d == DType::F32 || *d == DType::F16 || *d == DType::BF16)) {
      config.weight_dtype = *d;
    } else {
      config.precision = flags.weight_dtype;
    }
  }
  if (flags.kv_dtype == "f32") {
    config.kv_dtype = DType::F32;
  } else if (flags.kv_dtype == "f16") {
    config.kv_dtype = DType::F16;
  } else {
    fail("--kv {} is invalid: use f32 or f16", flags.kv_dtype);
  }
  if (flags.activations == "q8") {
    config.quantize_block_activations = true;
  } else if (flags.activations != "f32") {
    fail("--activations {} is invalid: use f32 or q8", flags.activations);
  }
  runtime::parse_device(flags.device);  // a bad value fails before the model is read
  config.device = flags.device;
  return runtime::load_engine(config);
}

void check_weight_precision(const std::string& name) {
  if (name == "auto" || name == "native" || quant::find_scheme(name) != nullptr) return;
  const auto d = dtype_from_name(name);
  if (d && (*d == DType::F32 || *d == DType::F16 || *d == DType::BF16)) return;
  fail("--weights {} is not a precision: use auto, native, f32, f16, bf16 or a scheme ({})", name, quant::scheme_names());
}

std::string json_quote(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace eaq::cli
