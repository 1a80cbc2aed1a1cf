// Pre-tokenizers of HF tokenizer.json: Split (regex or string, five behaviours), ByteLevel,
// Metaspace, Digits, Whitespace and Sequence. They cut normalized text into the words that BPE
// merges within.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace eaq::tokenizer {

// The GPT-2 regex that ByteLevel(use_regex=true) applies.
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Rewrites `pieces` in place. `at_text_start` says the first piece begins the whole input
  // (Metaspace's prepend_scheme "first" depends on it).
  virtual void split(std::vector<std::string>& pieces, bool at_text_start) const = 0;
};

std::unique_ptr<PreTokenizer> make_regex_split(const std::string& pattern, SplitBehavior behavior,
                                               bool invert, std::string_view where);
std::unique_ptr<PreTokenizer> make_string_split(std::string delimiter, SplitBehavior behavior,
                                                bool invert);
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
enum class PrependScheme { kAlways, kFirst, kNever };
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement,
                                                           PrependScheme scheme, bool split);
std::unique_ptr<PreTokenizer> make_digits_pre_tokenizer(bool individual_digits);
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> steps);

}  // namespace eaq::tokenizer
