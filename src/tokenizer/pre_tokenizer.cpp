// Pre-tokenizer implementations (HF tokenizers semantics: pieces never empty).
#include "tokenizer/pre_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {
namespace {

struct Span {
  std::size_t start, end;
  bool is_match;
};

// Turns a piece and the spans covering it into new pieces, as HF's NormalizedString::split.
void emit_spans(const std::string& piece, std::vector<Span>& spans, SplitBehavior behavior,
                bool invert, std::vector<std::string>& out) {
  if (invert) {
    for (auto& s : spans) s.is_match = !s.is_match;
  }
  auto text = [&](std::size_t start, std::size_t end) { return piece.substr(start, end - start); };
  if (behavior == SplitBehavior::kIsolated || behavior == SplitBehavior::kRemoved) {
    for (const auto& s : spans) {
      if (s.end > s.start && (behavior == SplitBehavior::kIsolated || !s.is_match)) {
        out.push_back(text(s.start, s.end));
      }
    }
    return;
  }
  // The folds of HF's NormalizedString::split, on (start, end) ranges.
  thread_local std::vector<std::pair<std::size_t, std::size_t>> ranges;
  ranges.clear();
  bool previous_match = false;
  if (behavior == SplitBehavior::kMergedWithNext) {
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      if (it->is_match && !previous_match && !ranges.empty()) {
        ranges.back().first = it->start;
      } else {
        ranges.push_back({it->start, it->end});
      }
      previous_match = it->is_match;
    }
    std::reverse(ranges.begin(), ranges.end());
  } else {
    for (const auto& s : spans) {
      bool merge = behavior == SplitBehavior::kMergedWithPrevious ? (s.is_match && !previous_match)
                                                                   : (s.is_match == previous_match);
      if (merge && !ranges.empty()) {
        ranges.back().second = s.end;
      } else {
        ranges.push_back({s.start, s.end});
      }
      previous_match = s.is_match;
    }
  }
  for (const auto& [start, end] : ranges) {
    if (end > start) out.push_back(text(start, end));
  }
}

// Matches → covering spans (gaps are non-matches).
template <typename FindMatches>
void split_piece(const std::string& piece, FindMatches&& find_matches, SplitBehavior behavior,
                 bool invert, std::vector<std::string>& out) {
  thread_local std::vector<Span> spans;
  spans.clear();
  std::size_t prev = 0;
  find_matches(piece, [&](std::size_t start, std::size_t end) {
    if (start > prev) spans.push_back({prev, start, false});
    spans.push_back({start, end, true});
    prev = end;
  });
  if (prev < piece.size()) spans.push_back({prev, piece.size(), false});
  emit_spans(piece, spans, behavior, invert, out);
}

class RegexSplit : public PreTokenizer {
 public:
  RegexSplit(const std::string& pattern, SplitBehavior behavior, bool invert, std::string_view where)
      : regex_(pattern, where), behavior_(behavior), invert_(invert) {}
  void split(std::vector<std::string>& pieces, bool) const override {
    std::vector<std::string> out;
    out.reserve(pieces.size() * 2);
    for (const auto& piece : pieces) {
      split_piece(
          piece,
          [&](const std::string& p, auto&& on_match) { regex_.for_each_match(p, on_match); },
          behavior_, invert_, out);
    }
    pieces = std::move(out);
  }

 private:
  UnicodeRegex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class StringSplit : public PreTokenizer {
 public:
  StringSplit(std::string delimiter, SplitBehavior behavior, bool invert)
      : delimiter_(std::move(delimiter)), behavior_(behavior), invert_(invert) {}
  void split(std::vector<std::string>& pieces, bool) const override {
    std::vector<std::string> out;
    for (const auto& piece : pieces) {
      split_piece(
          piece,
          [&](const std::string& p, auto&& on_match) {
            if (delimiter_.empty()) return;
            for (auto pos = p.find(delimiter_); pos != std::string::npos;
                 pos = p.find(delimiter_, pos + delimiter_.size())) {
              on_match(pos, pos + delimiter_.size());
            }
          },
          behavior_, invert_, out);
    }
    pieces = std::move(out);
  }

 private:
  std::string delimiter_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<UnicodeRegex>(kGpt2SplitPattern, "ByteLevel");
  }
  void split(std::vector<std::string>& pieces, bool) const override {
    std::vector<std::string> out;
    out.reserve(pieces.size());
    for (auto& piece : pieces) {
      if (add_prefix_space_ && !piece.starts_with(' ')) piece.insert(0, " ");
      if (regex_) {
        regex_->for_each_match(piece, [&](std::size_t start, std::size_t end) {
          std::string mapped;
          append_byte_level(mapped, std::string_view(piece).substr(start, end - start));
          out.push_back(std::move(mapped));
        });
        // The GPT-2 pattern covers every character, so there are no gaps to keep.
      } else {
        std::string mapped;
        append_byte_level(mapped, piece);
        out.push_back(std::move(mapped));
      }
    }
    pieces = std::move(out);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<UnicodeRegex> regex_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void split(std::vector<std::string>& pieces, bool at_text_start) const override {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      std::string text;
      for (char c : pieces[i]) {
        if (c == ' ') {
          text += replacement_;
        } else {
          text += c;
        }
      }
      bool prepend = scheme_ == PrependScheme::kAlways ||
                     (scheme_ == PrependScheme::kFirst && i == 0 && at_text_start);
      if (prepend && !text.starts_with(replacement_)) text.insert(0, replacement_);
      if (!split_) {
        if (!text.empty()) out.push_back(std::move(text));
        continue;
      }
      // MergedWithNext on the replacement character.
      std::vector<Span> spans;
      std::size_t prev = 0;
      for (auto pos = text.find(replacement_); pos != std::string::npos;
           pos = text.find(replacement_, pos + replacement_.size())) {
        if (pos > prev) spans.push_back({prev, pos, false});
        spans.push_back({pos, pos + replacement_.size(), true});
        prev = pos + replacement_.size();
      }
      if (prev < text.size()) spans.push_back({prev, text.size(), false});
      emit_spans(text, spans, SplitBehavior::kMergedWithNext, false, out);
    }
    pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void split(std::vector<std::string>& pieces, bool) const override {
    std::vector<std::string> out;
    for (const auto& piece : pieces) {
      split_piece(
          piece,
          [](const std::string& p, auto&& on_match) {
            std::size_t pos = 0;
            while (pos < p.size()) {
              std::size_t start = pos;
              char32_t cp = next_code_point(p, pos);
              auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
              // Rust's char::is_numeric: Nd, Nl, No.
              if (category == UTF8PROC_CATEGORY_ND || category == UTF8PROC_CATEGORY_NL ||
                  category == UTF8PROC_CATEGORY_NO) {
                on_match(start, pos);
              }
            }
          },
          individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false, out);
    }
    pieces = std::move(out);
  }

 private:
  bool individual_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void split(std::vector<std::string>& pieces, bool at_text_start) const override {
    for (const auto& step : steps_) step->split(pieces, at_text_start);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_regex_split(const std::string& pattern, SplitBehavior behavior,
                                               bool invert, std::string_view where) {
  return std::make_unique<RegexSplit>(pattern, behavior, invert, where);
}
std::unique_ptr<PreTokenizer> make_string_split(std::string delimiter, SplitBehavior behavior,
                                                bool invert) {
  return std::make_unique<StringSplit>(std::move(delimiter), behavior, invert);
}
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement,
                                                           PrependScheme scheme, bool split) {
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}
std::unique_ptr<PreTokenizer> make_digits_pre_tokenizer(bool individual_digits) {
  return std::make_unique<DigitsPreTokenizer>(individual_digits);
}
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> steps) {
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

}  // namespace eaq::tokenizer
