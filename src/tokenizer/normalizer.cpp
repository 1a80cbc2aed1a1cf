// Normalizer implementations.
#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {
namespace {

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {}
  void normalize(std::string& text) const override {
    // Pure ASCII is invariant under every form: skip the library call on the hot path.
    bool ascii = true;
    for (unsigned char c : text) {
      if (c >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return;
    int options = UTF8PROC_STABLE;
    switch (form_) {
      case UnicodeForm::kNfc: options |= UTF8PROC_COMPOSE; break;
      case UnicodeForm::kNfd: options |= UTF8PROC_DECOMPOSE; break;
      case UnicodeForm::kNfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
      case UnicodeForm::kNfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t* result = nullptr;
    auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                          static_cast<utf8proc_ssize_t>(text.size()), &result,
                          static_cast<utf8proc_option_t>(options));
    if (n < 0) {
      fail("unicode normalization failed: {}", utf8proc_errmsg(n));
    }
    text.assign(reinterpret_cast<const char*>(result), static_cast<std::size_t>(n));
    std::free(result);
  }

 private:
  UnicodeForm form_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::string pattern, bool regex, std::string content, std::string_view where)
      : pattern_(std::move(pattern)), content_(std::move(content)) {
    if (regex) regex_ = std::make_unique<UnicodeRegex>(pattern_, where);
  }
  void normalize(std::string& text) const override {
    std::string out;
    std::size_t prev = 0;
    if (regex_) {
      regex_->for_each_match(text, [&](std::size_t start, std::size_t end) {
        out.append(text, prev, start - prev);
        out += content_;
        prev = end;
      });
    } else {
      if (pattern_.empty()) return;
      for (auto pos = text.find(pattern_); pos != std::string::npos; pos = text.find(pattern_, prev)) {
        out.append(text, prev, pos - prev);
        out += content_;
        prev = pos + pattern_.size();
      }
    }
    if (prev == 0 && out.empty()) return;
    out.append(text, prev, std::string::npos);
    text = std::move(out);
  }

 private:
  std::string pattern_;
  std::string content_;
  std::unique_ptr<UnicodeRegex> regex_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
      char32_t cp = next_code_point(text, pos);
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    text = std::move(out);
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    const char* spaces = " \t\n\r\f\v";
    if (right_) {
      auto end = text.find_last_not_of(spaces);
      text.erase(end == std::string::npos ? 0 : end + 1);
    }
    if (left_) text.erase(0, text.find_first_not_of(spaces) == std::string::npos
                                 ? text.size()
                                 : text.find_first_not_of(spaces));
  }

 private:
  bool left_, right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form) {
  return std::make_unique<UnicodeNormalizer>(form);
}
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix) {
  return std::make_unique<PrependNormalizer>(std::move(prefix));
}
std::unique_ptr<Normalizer> make_replace_normalizer(std::string pattern, bool regex,
                                                    std::string content, std::string_view where) {
  return std::make_unique<ReplaceNormalizer>(std::move(pattern), regex, std::move(content), where);
}
std::unique_ptr<Normalizer> make_lowercase_normalizer() {
  return std::make_unique<LowercaseNormalizer>();
}
std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right) {
  return std::make_unique<StripNormalizer>(left, right);
}
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps) {
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace eaq::tokenizer
