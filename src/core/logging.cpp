// Logging setup: one stderr sink so stdout stays clean for results.
#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

#include "core/error.h"

namespace eaq {

void init_logging() {
  auto logger = spdlog::stderr_color_mt("eaq");
  logger->set_pattern("[%^%l%$] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);
  if (const char* env = std::getenv("EAQ_LOG_LEVEL")) set_log_level(env);
}

void set_log_level(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    fail("unknown log level '{}': use trace, debug, info, warn, error or off", level);
  }
  spdlog::set_level(parsed);
}

}  // namespace eaq
