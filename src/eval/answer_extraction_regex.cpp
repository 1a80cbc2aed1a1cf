// PythonStyleRegex on PCRE2 (see answer_extraction_regex.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "eval/answer_extraction_regex.h"

#include <pcre2.h>

#include "core/error.h"

namespace eaq::eval {

struct PythonStyleRegex::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

PythonStyleRegex::PythonStyleRegex(std::string_view pattern) : compiled_(std::make_unique<Compiled>()) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset, nullptr);
  if (compiled_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    throw InternalError(fmt::format("answer extraction: pattern '{}' does not compile at offset {}: {}",
                                    pattern, error_offset, reinterpret_cast<const char*>(message)));
  }
}

PythonStyleRegex::~PythonStyleRegex() = default;
PythonStyleRegex::PythonStyleRegex(PythonStyleRegex&&) noexcept = default;
PythonStyleRegex& PythonStyleRegex::operator=(PythonStyleRegex&&) noexcept = default;

namespace {

struct MatchData {
  pcre2_match_data* data;
  explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
};

// Matches at or after `start`; returns the ovector pairs or nothing.
std::optional<std::vector<std::pair<PCRE2_SIZE, PCRE2_SIZE>>> match_at(const pcre2_code* code,
                                                                       std::string_view text,
                                                                       std::size_t start,
                                                                       std::uint32_t options) {
  MatchData match(code);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, options,
                       match.data, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) return std::nullopt;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof message);
    fail("answer extraction: regex match failed: {}", reinterpret_cast<const char*>(message));
  }
  std::uint32_t pairs = pcre2_get_ovector_count(match.data);
  PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
  std::vector<std::pair<PCRE2_SIZE, PCRE2_SIZE>> spans(pairs);
  for (std::uint32_t i = 0; i < pairs; ++i) spans[i] = {ovector[2 * i], ovector[2 * i + 1]};
  return spans;
}

PythonStyleRegex::Match to_match(std::string_view text,
                                 const std::vector<std::pair<PCRE2_SIZE, PCRE2_SIZE>>& spans) {
  PythonStyleRegex::Match match;
  for (const auto& [begin, end] : spans) {
    if (begin == PCRE2_UNSET) {
      match.groups.emplace_back(std::nullopt);
    } else {
      match.groups.emplace_back(std::string(text.substr(begin, end - begin)));
    }
  }
  return match;
}

// The byte length of the UTF-8 sequence that starts with `lead` (1 for anything invalid).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Walks the matches as re.finditer does: after an empty match, the next one must start later.
template <typename Visit>
void for_each_match(const pcre2_code* code, std::string_view text, Visit visit) {
  std::size_t position = 0;
  while (position <= text.size()) {
    auto spans = match_at(code, text, position, 0);
    if (!spans) break;
    const auto [begin, end] = (*spans)[0];
    visit(*spans);
    if (end == begin) {
      if (end >= text.size()) break;
      position = end + std::min(utf8_length(static_cast<unsigned char>(text[end])), text.size() - end);
    } else {
      position = end;
    }
  }
}

}  // namespace

std::optional<PythonStyleRegex::Match> PythonStyleRegex::search(std::string_view text) const {
  auto spans = match_at(compiled_->code, text, 0, 0);
  if (!spans) return std::nullopt;
  return to_match(text, *spans);
}

std::vector<PythonStyleRegex::Match> PythonStyleRegex::find_all(std::string_view text) const {
  std::vector<Match> matches;
  for_each_match(compiled_->code, text, [&](const auto& spans) { matches.push_back(to_match(text, spans)); });
  return matches;
}

std::string PythonStyleRegex::substitute(std::string_view text, std::string_view replacement) const {
  std::string out;
  std::size_t copied = 0;
  for_each_match(compiled_->code, text, [&](const auto& spans) {
    out.append(text.substr(copied, spans[0].first - copied));
    for (std::size_t i = 0; i < replacement.size(); ++i) {
      char c = replacement[i];
      if (c == '\\' && i + 1 < replacement.size() && replacement[i + 1] >= '0' && replacement[i + 1] <= '9') {
        std::size_t group = static_cast<std::size_t>(replacement[++i] - '0');
        if (group < spans.size() && spans[group].first != PCRE2_UNSET) {
          out.append(text.substr(spans[group].first, spans[group].second - spans[group].first));
        }
      } else {
        out.push_back(c);
      }
    }
    copied = spans[0].second;
  });
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

}  // namespace eaq::eval
