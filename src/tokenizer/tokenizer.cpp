// Tokenizer's shared parts: decode and the streaming decoder.
#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {

void Tokenizer::check_id(std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    fail("token id {} is out of range: this {} vocabulary has {} tokens (ids 0..{})", id, kind(),
         vocab_size(), vocab_size() - 1);
  }
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  bool first = true;
  for (auto id : ids) {
    check_id(id);
    if (skip_special_tokens && is_special(id)) continue;
    bytes += token_bytes(id, first);
    first = false;
  }
  return utf8_lossy(bytes);
}

std::string StreamingDecoder::feed(std::int32_t id) {
  if (skip_special_tokens_ && tokenizer_.is_special(id)) return {};
  pending_ += tokenizer_.token_bytes(id, first_);
  first_ = false;
  // Emit everything up to an incomplete character at the very end.
  std::size_t pos = 0;
  std::size_t emit_end = 0;
  while (pos < pending_.size()) {
    bool incomplete = false;
    std::size_t n = utf8_valid_char_length(pending_, pos, &incomplete);
    if (incomplete) break;
    pos += n == 0 ? 1 : n;
    emit_end = pos;
  }
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, emit_end));
  pending_.erase(0, emit_end);
  return out;
}

std::string StreamingDecoder::finish() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace eaq::tokenizer
