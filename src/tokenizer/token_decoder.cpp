// TokenDecoder implementations.
#include "tokenizer/token_decoder.h"

#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {
namespace {

class ByteLevelDecoder : public TokenDecoder {
 public:
  void decode_token(std::string& text, bool) const override { text = bytes_from_byte_level(text); }
};

void replace_all(std::string& text, const std::string& pattern, const std::string& content) {
  if (pattern.empty()) return;
  std::string out;
  std::size_t prev = 0;
  bool any = false;
  for (auto pos = text.find(pattern); pos != std::string::npos; pos = text.find(pattern, prev)) {
    out.append(text, prev, pos - prev);
    out += content;
    prev = pos + pattern.size();
    any = true;
  }
  if (!any) return;
  out.append(text, prev, std::string::npos);
  text = std::move(out);
}

class MetaspaceDecoder : public TokenDecoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first_space)
      : replacement_(std::move(replacement)), strip_first_space_(strip_first_space) {}
  void decode_token(std::string& text, bool first) const override {
    replace_all(text, replacement_, " ");
    if (first && strip_first_space_ && text.starts_with(' ')) text.erase(0, 1);
  }

 private:
  std::string replacement_;
  bool strip_first_space_;
};

class ReplaceDecoder : public TokenDecoder {
 public:
  ReplaceDecoder(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_token(std::string& text, bool) const override { replace_all(text, pattern_, content_); }

 private:
  std::string pattern_, content_;
};

class ByteFallbackDecoder : public TokenDecoder {
 public:
  void decode_token(std::string& text, bool) const override {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    if (text.size() == 6 && text.starts_with("<0x") && text[5] == '>') {
      int hi = hex(text[3]), lo = hex(text[4]);
      if (hi >= 0 && lo >= 0) text = std::string(1, static_cast<char>(hi * 16 + lo));
    }
  }
};

class StripDecoder : public TokenDecoder {
 public:
  StripDecoder(std::string content, int start, int stop, bool only_first_token)
      : content_(std::move(content)), start_(start), stop_(stop), only_first_(only_first_token) {}
  void decode_token(std::string& text, bool first) const override {
    if (only_first_ && !first) return;
    for (int i = 0; i < start_ && !content_.empty() && text.starts_with(content_); ++i) {
      text.erase(0, content_.size());
    }
    if (only_first_) return;  // the end of a fused output is not known while streaming
    for (int i = 0; i < stop_ && !content_.empty() && text.ends_with(content_); ++i) {
      text.erase(text.size() - content_.size());
    }
  }

 private:
  std::string content_;
  int start_, stop_;
  bool only_first_;
};

class SequenceDecoder : public TokenDecoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<TokenDecoder>> steps) : steps_(std::move(steps)) {}
  void decode_token(std::string& text, bool first) const override {
    for (const auto& step : steps_) step->decode_token(text, first);
  }

 private:
  std::vector<std::unique_ptr<TokenDecoder>> steps_;
};

}  // namespace

std::unique_ptr<TokenDecoder> make_byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }
std::unique_ptr<TokenDecoder> make_metaspace_decoder(std::string replacement, bool strip_first_space) {
  return std::make_unique<MetaspaceDecoder>(std::move(replacement), strip_first_space);
}
std::unique_ptr<TokenDecoder> make_replace_decoder(std::string pattern, std::string content) {
  return std::make_unique<ReplaceDecoder>(std::move(pattern), std::move(content));
}
std::unique_ptr<TokenDecoder> make_byte_fallback_decoder() {
  return std::make_unique<ByteFallbackDecoder>();
}
std::unique_ptr<TokenDecoder> make_strip_decoder(std::string content, int start, int stop,
                                                 bool only_first_token) {
  return std::make_unique<StripDecoder>(std::move(content), start, stop, only_first_token);
}
std::unique_ptr<TokenDecoder> make_sequence_decoder(std::vector<std::unique_ptr<TokenDecoder>> steps) {
  return std::make_unique<SequenceDecoder>(std::move(steps));
}

}  // namespace eaq::tokenizer
