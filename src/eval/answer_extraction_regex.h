// PythonStyleRegex: the few `re` operations the answer extractors need (search, findall, sub),
// on PCRE2, so that lm-eval's patterns run with Python's semantics: backtracking, '.' not
// matching '\n' unless (?s), '$' matching at the end or before a final '\n', code points (UTF-8)
// rather than bytes. Invalid UTF-8 in a model's output is tolerated (PCRE2_MATCH_INVALID_UTF).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::eval {

class PythonStyleRegex {
 public:
  // Throws eaq::Error (an internal pattern bug) when the pattern does not compile.
  explicit PythonStyleRegex(std::string_view pattern);
  ~PythonStyleRegex();
  PythonStyleRegex(PythonStyleRegex&&) noexcept;
  PythonStyleRegex& operator=(PythonStyleRegex&&) noexcept;

  // One match: groups[0] is the whole match; an unset group is nullopt.
  struct Match {
    std::vector<std::optional<std::string>> groups;
  };

  // re.search: the first match, if any.
  std::optional<Match> search(std::string_view text) const;
  // re.finditer: every non-overlapping match, left to right.
  std::vector<Match> find_all(std::string_view text) const;
  // re.sub with a template where \1..\9 name groups (an unset group gives "").
  std::string substitute(std::string_view text, std::string_view replacement) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace eaq::eval
