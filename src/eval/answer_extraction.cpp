// GSM8K and MATH answer extraction, ported from lm-evaluation-harness (sources in the header).
#include "eval/answer_extraction.h"

#include <algorithm>
#include <vector>

#include "eval/answer_extraction_regex.h"

namespace eaq::eval {
namespace {

// Python's str.strip() for the whitespace that occurs in model output (ASCII).
std::string strip(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(kSpace);
  return std::string(text.substr(begin, end - begin + 1));
}

// Python's str.split(separator).
std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t found = text.find(separator, start);
    if (found == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, found - start));
    start = found + separator.size();
  }
}

// Python's str.replace(old, new) (all occurrences, left to right).
std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t found = text.find(from, start);
    if (found == std::string_view::npos) break;
    out.append(text.substr(start, found - start));
    out.append(to);
    start = found + from.size();
  }
  out.append(text.substr(start));
  return out;
}

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

// The byte length of the code point that starts at text[0] (Python indexes code points).
std::size_t first_code_point_length(std::string_view text) {
  if (text.empty()) return 0;
  auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return std::min(length, text.size());
}

// The string that Python's "{}".format(int(s)) gives back unchanged: 0 or -?[1-9][0-9]*.
bool is_canonical_int(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  if (text.empty()) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return text == "0" || text[0] != '0';
}

// Whether Python's int(s) accepts s (ASCII subset: optional whitespace, sign, digits with single
// underscores between them). When it does and the text is not canonical, fix_a_slash_b's assert
// fails (caught there); when it does not, int() raises ValueError (not caught there).
bool python_int_accepts(std::string_view text) {
  std::string s = strip(text);
  std::string_view v = s;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) v.remove_prefix(1);
  if (v.empty() || v.front() == '_' || v.back() == '_') return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '_') {
      if (v[i + 1] == '_') return false;
    } else if (v[i] < '0' || v[i] > '9') {
      return false;
    }
  }
  return true;
}

std::string first_group_or_fallback(const PythonStyleRegex::Match& match) {
  // findall gives a string for one group, a tuple for several; a tuple's first non-empty entry.
  for (std::size_t i = 1; i < match.groups.size(); ++i) {
    if (match.groups[i] && !match.groups[i]->empty()) return strip(*match.groups[i]);
  }
  if (match.groups.size() == 2) return strip(match.groups[1].value_or(""));
  return std::string(kInvalidAnswer);
}

}  // namespace

// --- GSM8K -------------------------------------------------------------------------------------

std::string gsm8k_reference_answer(std::string_view answer_field) {
  return strip(split(answer_field, "####").back());
}

std::string gsm8k_strict_match(std::string_view generation) {
  static const PythonStyleRegex pattern(R"(The answer is (\-?[0-9\.\,]+).)");
  auto matches = pattern.find_all(generation);
  if (matches.empty()) return std::string(kInvalidAnswer);
  return first_group_or_fallback(matches.front());
}

std::string gsm8k_flexible_extract(std::string_view generation) {
  static const PythonStyleRegex pattern(R"((-?[$0-9.,]{2,})|(-?[0-9]+))");
  auto matches = pattern.find_all(generation);
  if (matches.empty()) return std::string(kInvalidAnswer);
  return first_group_or_fallback(matches.back());
}

std::string gsm8k_normalize_for_exact_match(std::string_view text) {
  static const std::vector<PythonStyleRegex> ignored = [] {
    std::vector<PythonStyleRegex> patterns;
    for (const char* p : {",", R"(\$)", "(?s).*#### ", R"(\.$)"}) patterns.emplace_back(p);
    return patterns;
  }();
  std::string out(text);
  for (const PythonStyleRegex& pattern : ignored) out = pattern.substitute(out, "");
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool gsm8k_exact_match(std::string_view extracted, std::string_view reference) {
  return gsm8k_normalize_for_exact_match(extracted) == gsm8k_normalize_for_exact_match(reference);
}

// --- MATH: boxed answers -----------------------------------------------------------------------

std::optional<std::string> last_boxed_only_string(std::string_view text) {
  std::size_t index = text.rfind("\\boxed");
  if (contains(text, "\\boxed ")) {
    std::vector<std::string> after = split(text, "\\boxed ");
    return "\\boxed " + split(after.back(), "$").front();
  }
  if (index == std::string_view::npos) {
    index = text.rfind("\\fbox");
    if (index == std::string_view::npos) return std::nullopt;
  }
  int open_braces = 0;
  for (std::size_t i = index; i < text.size(); ++i) {
    if (text[i] == '{') ++open_braces;
    if (text[i] == '}') {
      --open_braces;
      if (open_braces == 0) return std::string(text.substr(index, i + 1 - index));
    }
  }
  return std::nullopt;
}

std::optional<std::string> remove_boxed(std::string_view boxed) {
  if (contains(boxed, "\\boxed ")) {
    constexpr std::string_view left = "\\boxed ";
    if (boxed.substr(0, left.size()) != left) return std::nullopt;
    return std::string(boxed.substr(left.size()));
  }
  constexpr std::string_view left = "\\boxed{";
  if (boxed.substr(0, left.size()) != left || boxed.size() < left.size() + 1 || boxed.back() != '}') {
    return std::nullopt;
  }
  return std::string(boxed.substr(left.size(), boxed.size() - left.size() - 1));
}

std::optional<std::string> math_reference_answer(std::string_view solution) {
  auto boxed = last_boxed_only_string(solution);
  if (!boxed) return std::nullopt;
  return remove_boxed(*boxed);
}

std::string hendrycks_extract_answer(std::string_view output) {
  if (auto boxed = last_boxed_only_string(output)) {
    // lm-eval would raise on "\fbox{...}" (remove_boxed's assert); we treat it as no answer.
    return remove_boxed(*boxed).value_or(std::string(kInvalidAnswer));
  }
  static const PythonStyleRegex display_math(R"((?s)\\\[(.+?)\\\])");
  if (auto match = display_math.search(output)) return strip(match->groups[1].value_or(""));
  std::size_t first = output.find('$');
  std::size_t last = output.rfind('$');
  if (first != std::string_view::npos && last != first) {
    return std::string(output.substr(first + 1, last - first - 1));
  }
  return std::string(output);
}

// --- MATH: Hendrycks' normalisation ------------------------------------------------------------
namespace {

std::optional<std::string> fix_fracs(const std::string& string) {
  std::vector<std::string> substrs = split(string, "\\frac");
  std::string new_str = substrs[0];
  for (std::size_t k = 1; k < substrs.size(); ++k) {
    const std::string& substr = substrs[k];
    new_str += "\\frac";
    if (substr.empty()) return std::nullopt;  // substr[0]: IndexError
    if (substr[0] == '{') {
      new_str += substr;
      continue;
    }
    std::size_t a_length = first_code_point_length(substr);
    std::string_view rest = std::string_view(substr).substr(a_length);
    if (rest.empty()) return string;  // assert len(substr) >= 2 (caught: return the input)
    std::string a = substr.substr(0, a_length);
    std::size_t b_length = first_code_point_length(rest);
    std::string b(rest.substr(0, b_length));
    std::string post_substr(rest.substr(b_length));
    if (b != "{") {
      new_str += "{" + a + "}{" + b + "}" + post_substr;
    } else {
      new_str += "{" + a + "}" + b + post_substr;
    }
  }
  return new_str;
}

std::optional<std::string> fix_a_slash_b(const std::string& string) {
  std::vector<std::string> parts = split(string, "/");
  if (parts.size() != 2) return string;
  if (!python_int_accepts(parts[0]) || !python_int_accepts(parts[1])) return std::nullopt;  // ValueError
  if (!is_canonical_int(parts[0]) || !is_canonical_int(parts[1])) return string;  // assert, caught
  return "\\frac{" + parts[0] + "}{" + parts[1] + "}";
}

std::optional<std::string> remove_right_units(const std::string& string) {
  if (!contains(string, "\\text{ ")) return string;
  std::vector<std::string> splits = split(string, "\\text{ ");
  if (splits.size() != 2) return std::nullopt;  // AssertionError, not caught there
  return splits[0];
}

std::optional<std::string> fix_sqrt(const std::string& string) {
  if (!contains(string, "\\sqrt")) return string;
  std::vector<std::string> splits = split(string, "\\sqrt");
  std::string new_string = splits[0];
  for (std::size_t k = 1; k < splits.size(); ++k) {
    const std::string& part = splits[k];
    if (part.empty()) return std::nullopt;  // split[0]: IndexError
    if (part[0] != '{') {
      std::size_t a_length = first_code_point_length(part);
      new_string += "\\sqrt{" + part.substr(0, a_length) + "}" + part.substr(a_length);
    } else {
      new_string += "\\sqrt" + part;
    }
  }
  return new_string;
}

}  // namespace

std::optional<std::string> hendrycks_strip_string(std::string_view text) {
  std::string string = replace_all(text, "\n", "");
  string = replace_all(string, "\\!", "");
  string = replace_all(string, "\\\\", "\\");
  string = replace_all(string, "tfrac", "frac");
  string = replace_all(string, "dfrac", "frac");
  string = replace_all(string, "\\left", "");
  string = replace_all(string, "\\right", "");
  string = replace_all(string, "^{\\circ}", "");
  string = replace_all(string, "^\\circ", "");
  string = replace_all(string, "\\$", "");
  auto without_units = remove_right_units(string);
  if (!without_units) return std::nullopt;
  string = *without_units;
  string = replace_all(string, "\\%", "");
  string = replace_all(string, "\\%", "");  // lm-eval's second line is the same string ("\%")
  string = replace_all(string, " .", " 0.");
  string = replace_all(string, "{.", "{0.");
  if (string.empty()) return string;
  if (string[0] == '.') string = "0" + string;
  std::vector<std::string> sides = split(string, "=");
  if (sides.size() == 2 && sides[0].size() <= 2) string = sides[1];  // "k = 3" -> " 3"
  auto sqrt_fixed = fix_sqrt(string);
  if (!sqrt_fixed) return std::nullopt;
  string = replace_all(*sqrt_fixed, " ", "");
  auto fracs_fixed = fix_fracs(string);
  if (!fracs_fixed) return std::nullopt;
  string = *fracs_fixed;
  if (string == "0.5") string = "\\frac{1}{2}";
  return fix_a_slash_b(string);
}

bool hendrycks_is_equiv(std::string_view a, std::string_view b) {
  auto stripped_a = hendrycks_strip_string(a);
  auto stripped_b = hendrycks_strip_string(b);
  if (!stripped_a || !stripped_b) return a == b;  // lm-eval: except Exception: return str1 == str2
  return *stripped_a == *stripped_b;
}

// --- MATH: Minerva -----------------------------------------------------------------------------

std::string minerva_unnormalized_answer(std::string_view generation) {
  static const PythonStyleRegex pattern(R"(Final Answer: The final answer is(.*?). I hope it is correct.)");
  std::string text(generation);
  text += "I hope it is correct.";
  if (auto match = pattern.search(text)) return strip(match->groups[1].value_or(""));
  return std::string(kInvalidMinervaAnswer);
}

std::string minerva_normalize_final_answer(std::string_view answer) {
  static const std::pair<std::string_view, std::string_view> kSubstitutions[] = {
      {"an ", ""}, {"a ", ""}, {".$", "$"}, {"\\$", ""}, {"\\ ", ""}, {" ", ""}, {"mbox", "text"},
      {",\\text{and}", ","}, {"\\text{and}", ","}, {"\\text{m}", "\\text{}"},
  };
  static const std::string_view kRemovedExpressions[] = {
      "square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units",
      "\\ldots", "sue", "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm",
      "pounds", "meters", "meals", "edges", "students", "childrentickets", "multiples",
      "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2", "\\text{}^3", "\\text{\n}",
      "\\text{}", "\\mathrm{th}", "^\\circ", "^{\\circ}", "\\;", ",\\!", "{,}", "\"", "\\dots",
  };
  static const std::pair<PythonStyleRegex, std::string_view> kRewrites[] = {
      {PythonStyleRegex(R"((.*?)(\$)(.*?)(\$)(.*))"), "$\\3$"},
      {PythonStyleRegex(R"((\\text\{)(.*?)(\}))"), "\\2"},
      {PythonStyleRegex(R"((\\textbf\{)(.*?)(\}))"), "\\2"},
      {PythonStyleRegex(R"((\\overline\{)(.*?)(\}))"), "\\2"},
      {PythonStyleRegex(R"((\\boxed\{)(.*)(\}))"), "\\2"},
      {PythonStyleRegex(R"((frac)([^{])(.))"), "frac{\\2}{\\3}"},
      {PythonStyleRegex(R"((sqrt)([^{]))"), "sqrt{\\2}"},
  };
  std::string final_answer = split(answer, "=").back();
  for (const auto& [before, after] : kSubstitutions) final_answer = replace_all(final_answer, before, after);
  for (std::string_view expression : kRemovedExpressions) final_answer = replace_all(final_answer, expression, "");
  for (const auto& [pattern, replacement] : kRewrites) final_answer = pattern.substitute(final_answer, replacement);
  final_answer = replace_all(final_answer, "$", "");
  std::string without_commas = replace_all(final_answer, ",", "");
  if (!without_commas.empty() &&
      std::all_of(without_commas.begin(), without_commas.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    final_answer = without_commas;
  }
  return final_answer;
}

MathVerdict score_math_answer(std::string_view generation, std::string_view reference_answer) {
  MathVerdict verdict;
  const std::string minerva = minerva_unnormalized_answer(generation);
  verdict.candidate = minerva != kInvalidMinervaAnswer ? hendrycks_extract_answer(minerva)
                                                       : hendrycks_extract_answer(generation);
  verdict.exact_match = hendrycks_is_equiv(verdict.candidate, reference_answer);
  verdict.minerva_match = minerva != kInvalidMinervaAnswer &&
                          minerva_normalize_final_answer(minerva) ==
                              minerva_normalize_final_answer(reference_answer);
  return verdict;
}

}  // namespace eaq::eval
