// lm-eval's request encoding (see request_encoding.h).
#include "eval/request_encoding.h"

#include "core/error.h"

namespace eaq::eval {

namespace {

// Decodes the UTF-8 code point that ends at `end` (exclusive); returns its start. Invalid bytes are
// taken one at a time (they are not whitespace).
std::size_t last_code_point(std::string_view text, std::size_t end, char32_t& cp) {
  std::size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + start;
  const std::size_t n = end - start;
  if (n == 1 && p[0] < 0x80) {
    cp = p[0];
  } else if (n == 2 && (p[0] & 0xE0) == 0xC0) {
    cp = (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  } else if (n == 3 && (p[0] & 0xF0) == 0xE0) {
    cp = (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  } else if (n == 4 && (p[0] & 0xF8) == 0xF0) {
    cp = (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  } else {
    cp = 0xFFFD;  // not whitespace
    return end - 1;
  }
  return start;
}

// Python's str.isspace(): Unicode White_Space plus the ASCII separators \x1c-\x1f.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::int32_t prefix_token(const tokenizer::Tokenizer& tokenizer) {
  if (tokenizer.bos_id() >= 0) return tokenizer.bos_id();
  if (tokenizer.eos_id() >= 0) return tokenizer.eos_id();
  fail("an empty context needs a BOS or EOS token to stand for it, and this tokenizer ({}) has neither",
       tokenizer.kind());
}

}  // namespace

std::size_t rstrip_length(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0) {
    char32_t cp = 0;
    const std::size_t start = last_code_point(text, end, cp);
    if (!is_python_space(cp)) break;
    end = start;
  }
  return end;
}

EncodedRequest encode_loglikelihood_request(const tokenizer::Tokenizer& tokenizer, std::string_view context,
                                            const std::vector<std::string>& continuations) {
  EncodedRequest request;
  if (context.empty()) {
    // lm-eval: context = [prefix token], continuation encoded without special tokens (if it
    // starts with the prefix token itself, that token becomes the context).
    const std::int32_t prefix = prefix_token(tokenizer);
    request.context_ids = {prefix};
    for (const auto& c : continuations) {
      auto ids = tokenizer.encode(c, false);
      if (!ids.empty() && ids.front() == prefix) ids.erase(ids.begin());
      if (ids.empty()) fail("continuation '{}' encodes to no tokens", c);
      request.continuation_ids.push_back(std::move(ids));
    }
    return request;
  }
  const std::size_t kept = rstrip_length(context);
  const std::string_view stripped = context.substr(0, kept);
  const std::string_view moved = context.substr(kept);
  request.context_ids = tokenizer.encode(stripped, true);
  for (const auto& c : continuations) {
    std::string whole(stripped);
    whole += moved;
    whole += c;
    std::vector<std::int32_t> whole_ids = tokenizer.encode(whole, true);
    if (whole_ids.size() <= request.context_ids.size()) {
      fail("continuation '{}' adds no tokens to its context (context ends '...{}')", c,
           stripped.substr(stripped.size() > 40 ? stripped.size() - 40 : 0));
    }
    request.continuation_ids.emplace_back(whole_ids.begin() + static_cast<std::ptrdiff_t>(request.context_ids.size()),
                                          whole_ids.end());
  }
  if (request.context_ids.empty()) {
    // A context of only whitespace (all moved to the continuation) and a tokenizer that adds no
    // BOS: the model still needs a first position to predict from.
    request.context_ids.push_back(prefix_token(tokenizer));
  }
  return request;
}

std::vector<std::int32_t> encode_generation_prompt(const tokenizer::Tokenizer& tokenizer, std::string_view prompt) {
  auto ids = tokenizer.encode(prompt, true);
  if (ids.empty()) ids.push_back(prefix_token(tokenizer));
  return ids;
}

}  // namespace eaq::eval
