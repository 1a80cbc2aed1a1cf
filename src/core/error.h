// eaq::Error (bad input: says what, where and what to do) and EAQ_CHECK (internal invariants).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace eaq {

// A problem with something the user gave us: a file, a flag, a dataset, a model.
// The message must say what was wrong, where (file, offset, field) and what to do.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A broken invariant inside eaq: a bug, not bad input.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message) : Error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace eaq

#define EAQ_CHECK(cond, ...)                                                                   \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      throw ::eaq::InternalError(::fmt::format("internal error at {}:{}: check '{}' failed. ", \
                                               __FILE__, __LINE__, #cond) +                    \
                                 ::fmt::format(__VA_ARGS__));                                  \
    }                                                                                          \
  } while (0)
