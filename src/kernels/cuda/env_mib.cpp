// env_mib: strtol with the whole string consumed and the range checked.
#include "kernels/cuda/env_mib.h"

#include <cstdlib>

#include "core/error.h"

namespace eaq::kernels::cuda {

std::optional<std::int64_t> env_mib(const char* name, std::int64_t max_mib, const char* when_unset) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > max_mib) {
    fail("{}='{}' is not a size: give a whole number of MiB from 1 to {}, or unset it ({})", name, text, max_mib,
         when_unset);
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace eaq::kernels::cuda
