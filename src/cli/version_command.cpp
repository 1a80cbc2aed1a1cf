// `eaq version`: the version, git sha and compiled-in backends.
#include <fmt/format.h>

#include "cli/commands.h"

namespace eaq::cli {

void register_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print eaq's version, git sha and backends");
  cmd->callback([] {
    fmt::print("eaq {} (git {})\nbackends: cpu{}\n", EAQ_VERSION, EAQ_GIT_SHA,
               EAQ_HAVE_CUDA ? ", cuda" : "");
  });
}

}  // namespace eaq::cli
