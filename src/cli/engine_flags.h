// Flags shared by the subcommands that run a model (generate, score): model, threads, context,
// weight and KV-cache precision; and the JSON string quoting their --json outputs use.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "runtime/engine.h"

namespace eaq::cli {

struct EngineFlags {
  std::string model_path;
  std::string tokenizer_path;
  int n_threads = 0;
  std::int64_t context_size = 0;
  std::string weight_dtype = "auto";
  std::string plan_path;
  std::string kv_dtype = "f32";
  std::string device = "cpu";
  std::string activations = "f32";
};

void add_engine_flags(CLI::App& cmd, EngineFlags& flags);
// Validates the flags (eaq::Error naming the bad one) and loads the engine.
runtime::Engine load_engine(const EngineFlags& flags, std::int64_t n_slots = 1);
// eaq::Error naming --weights unless `name` is one of its values.
void check_weight_precision(const std::string& name);
std::string json_quote(std::string_view text);

}  // namespace eaq::cli
