// env_switch: "0", "1", or unset.
#include "kernels/cuda/env_switch.h"

#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace eaq::kernels::cuda {

bool env_switch(const char* name, bool when_unset, const char* default_text) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return when_unset;
  if (std::string_view(text) == "1") return true;
  if (std::string_view(text) == "0") return false;
  fail("{}='{}' is not 0 or 1 (unset it for the default, {})", name, text, default_text);
}

}  // namespace eaq::kernels::cuda
