// UnicodeRegex: a PCRE2 (UTF + Unicode properties, JIT) regex for the pre-tokenizer patterns of
// HF tokenizers (\p{L}, \p{N}, lookahead, (?i:...)).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace eaq::tokenizer {

class UnicodeRegex {
 public:
  // Throws eaq::Error naming `where` if the pattern does not compile.
  UnicodeRegex(const std::string& pattern, std::string_view where);
  ~UnicodeRegex();
  UnicodeRegex(const UnicodeRegex&) = delete;
  UnicodeRegex& operator=(const UnicodeRegex&) = delete;

  // Calls on_match(start, end) for each non-empty, non-overlapping match, left to right.
  // `text` must be valid UTF-8.
  void for_each_match(std::string_view text,
                      const std::function<void(std::size_t, std::size_t)>& on_match) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace eaq::tokenizer
