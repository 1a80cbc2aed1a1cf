// Logging: spdlog to stderr; the level comes from --verbose/--quiet or EAQ_LOG_LEVEL.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace eaq {

// level: trace, debug, info, warn, error, off. Throws eaq::Error for anything else.
void set_log_level(const std::string& level);
void init_logging();

}  // namespace eaq
