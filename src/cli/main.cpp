// The `eaq` command: parse, dispatch to one subcommand, print errors as "eaq: error: ...".
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"
#include "core/logging.h"

int main(int argc, char** argv) {
  CLI::App app{
      "eaq: energy-aware deployment of language models — speed, energy, accuracy and CO2 per "
      "precision, on CPU and NVIDIA GPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("eaq ") + EAQ_VERSION + " (git " + EAQ_GIT_SHA + ")");
  app.add_option_function<std::string>(
         "--log-level", [](const std::string& level) { eaq::set_log_level(level); },
         "trace, debug, info, warn, error or off")
      ->trigger_on_parse();

  eaq::cli::register_version_command(app);
  eaq::cli::register_hw_command(app);
  eaq::cli::register_meter_command(app);
  eaq::cli::register_info_command(app);
  eaq::cli::register_tokenize_command(app);
  eaq::cli::register_generate_command(app);
  eaq::cli::register_score_command(app);
  eaq::cli::register_eval_command(app);
  eaq::cli::register_logits_command(app);
  eaq::cli::register_quality_command(app);
  eaq::cli::register_quantize_command(app);
  eaq::cli::register_tensor_command(app);
  eaq::cli::register_data_command(app);
  eaq::cli::register_bench_command(app);
  eaq::cli::register_synth_command(app);

  try {
    eaq::init_logging();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const eaq::InternalError& e) {
    fmt::print(stderr, "eaq: {}\nThis is a bug in eaq; please report it with the command line.\n", e.what());
    return 3;
  } catch (const eaq::Error& e) {
    fmt::print(stderr, "eaq: error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "eaq: error: out of memory. Use a smaller model, context or batch.\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "eaq: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
