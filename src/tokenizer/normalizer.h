// Normalizers of HF tokenizer.json: Unicode forms (utf8proc), Prepend, Replace, Lowercase,
// Strip and Sequence. They rewrite the text between added tokens before pre-tokenization.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace eaq::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form);
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix);
// Replaces every occurrence of a literal string, or of a regex when `regex` is set.
std::unique_ptr<Normalizer> make_replace_normalizer(std::string pattern, bool regex,
                                                    std::string content, std::string_view where);
std::unique_ptr<Normalizer> make_lowercase_normalizer();
std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right);
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps);

}  // namespace eaq::tokenizer
