// The eaq subcommands: each file cli/<name>_command.cpp defines one register_<name>_command.
#pragma once

#include <CLI/CLI.hpp>

namespace eaq::cli {

void register_version_command(CLI::App& app);
void register_hw_command(CLI::App& app);     // energy: hardware and meters
void register_meter_command(CLI::App& app);  // energy: meter a command
void register_info_command(CLI::App& app);
void register_tokenize_command(CLI::App& app);  // tokenize + detokenize
void register_generate_command(CLI::App& app);
void register_score_command(CLI::App& app);
void register_eval_command(CLI::App& app);  // eval: accuracy tasks
void register_logits_command(CLI::App& app);
void register_quality_command(CLI::App& app);
void register_quantize_command(CLI::App& app);
void register_tensor_command(CLI::App& app);
void register_data_command(CLI::App& app);  // eval: dataset pull/list
void register_bench_command(CLI::App& app);  // experiment: speed x energy x quality per precision
void register_synth_command(CLI::App& app);  // random-initialised models of real architectures

}  // namespace eaq::cli
