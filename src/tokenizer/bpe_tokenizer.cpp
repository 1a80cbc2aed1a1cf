// BpeTokenizer: encode/decode through the HF pipeline.
#include "tokenizer/bpe_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {
namespace {

bool is_word_char(std::string_view text, std::size_t pos, bool before) {
  // The character just before (or at) `pos`.
  if (before) {
    if (pos == 0) return false;
    std::size_t start = pos - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    pos = start;
  } else if (pos >= text.size()) {
    return false;
  }
  std::size_t p = pos;
  char32_t cp = next_code_point(text, p);
  auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cp == '_' || (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO) ||
         (category >= UTF8PROC_CATEGORY_MN && category <= UTF8PROC_CATEGORY_ME);
}

bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_valid_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    std::size_t n = utf8_valid_char_length(text, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

}  // namespace

BpeTokenizer::BpeTokenizer(BpeTokenizerParts parts) : parts_(std::move(parts)) {
  EAQ_CHECK(parts_.model != nullptr, "BpeTokenizer needs a model");
  EAQ_CHECK(parts_.types.size() == parts_.pieces.size(), "types and pieces differ in size");
  piece_to_id_.reserve(parts_.pieces.size() * 2);
  for (std::size_t id = 0; id < parts_.pieces.size(); ++id) {
    if (!parts_.pieces[id].empty()) piece_to_id_.try_emplace(parts_.pieces[id], static_cast<std::int32_t>(id));
  }
  for (std::size_t i = 0; i < parts_.added_tokens.size(); ++i) {
    const auto& token = parts_.added_tokens[i];
    if (token.content.empty()) continue;
    has_normalized_added_ = has_normalized_added_ || token.normalized;
    added_by_first_byte_[token.normalized][static_cast<unsigned char>(token.content[0])].push_back(
        static_cast<std::int32_t>(i));
  }
  for (auto& table : added_by_first_byte_) {
    for (auto& bucket : table) {
      std::stable_sort(bucket.begin(), bucket.end(), [&](std::int32_t a, std::int32_t b) {
        return parts_.added_tokens[a].content.size() > parts_.added_tokens[b].content.size();
      });
    }
  }
}

void BpeTokenizer::split_added(std::string_view text, bool normalized, std::vector<Segment>& out) const {
  const auto& table = added_by_first_byte_[normalized];
  std::size_t segment_start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = table[static_cast<unsigned char>(text[pos])];
    const AddedToken* found = nullptr;
    for (auto index : bucket) {
      const auto& token = parts_.added_tokens[index];
      if (text.compare(pos, token.content.size(), token.content) != 0) continue;
      if (token.single_word && (is_word_char(text, pos, true) ||
                                is_word_char(text, pos + token.content.size(), false))) {
        continue;
      }
      found = &token;
      break;
    }
    if (found == nullptr) {
      ++pos;
      continue;
    }
    std::size_t start = pos;
    std::size_t end = pos + found->content.size();
    if (found->lstrip) {
      while (start > segment_start && is_space_byte(text[start - 1])) --start;
    }
    if (found->rstrip) {
      while (end < text.size() && is_space_byte(text[end])) ++end;
    }
    if (start > segment_start) out.push_back({segment_start, start, -1});
    out.push_back({start, end, found->id});
    segment_start = end;
    pos = end;
  }
  if (segment_start < text.size()) out.push_back({segment_start, text.size(), -1});
}

void BpeTokenizer::encode_text(std::string_view text, bool at_text_start,
                               std::vector<std::int32_t>& ids) const {
  thread_local std::vector<std::string> pieces;
  pieces.clear();
  pieces.emplace_back(text);
  if (parts_.normalizer) parts_.normalizer->normalize(pieces[0]);
  if (pieces[0].empty()) return;
  if (parts_.pre_tokenizer) parts_.pre_tokenizer->split(pieces, at_text_start);
  for (const auto& piece : pieces) parts_.model->encode_word(piece, ids);
}

std::vector<std::int32_t> BpeTokenizer::encode(std::string_view input, bool add_special_tokens) const {
  std::string repaired;
  if (!is_valid_utf8(input)) {
    repaired = utf8_lossy(input);
    input = repaired;
  }
  std::vector<std::int32_t> ids;
  ids.reserve(input.size() / 3 + 4);
  if (add_special_tokens) ids.insert(ids.end(), parts_.prefix_ids.begin(), parts_.prefix_ids.end());
  std::vector<Segment> segments;
  split_added(input, false, segments);
  for (const auto& segment : segments) {
    if (segment.added_id >= 0) {
      ids.push_back(segment.added_id);
      continue;
    }
    std::string_view text = input.substr(segment.start, segment.end - segment.start);
    if (!has_normalized_added_) {
      encode_text(text, segment.start == 0, ids);
      continue;
    }
    // Added tokens with normalized=true are looked for in the normalized text.
    std::string normalized(text);
    if (parts_.normalizer) parts_.normalizer->normalize(normalized);
    std::vector<Segment> inner;
    split_added(normalized, true, inner);
    for (const auto& part : inner) {
      if (part.added_id >= 0) {
        ids.push_back(part.added_id);
        continue;
      }
      thread_local std::vector<std::string> pieces;
      pieces.clear();
      pieces.emplace_back(normalized.substr(part.start, part.end - part.start));
      if (parts_.pre_tokenizer) parts_.pre_tokenizer->split(pieces, segment.start == 0 && part.start == 0);
      for (const auto& piece : pieces) parts_.model->encode_word(piece, ids);
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), parts_.suffix_ids.begin(), parts_.suffix_ids.end());
  return ids;
}

std::string BpeTokenizer::token_bytes(std::int32_t id, bool first) const {
  check_id(id);
  std::string text = parts_.pieces[id];
  if (parts_.decoder) parts_.decoder->decode_token(text, first);
  return text;
}

std::string_view BpeTokenizer::piece(std::int32_t id) const {
  check_id(id);
  return parts_.pieces[id];
}

std::optional<std::int32_t> BpeTokenizer::token_id(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  if (it == piece_to_id_.end()) return std::nullopt;
  return it->second;
}

TokenType BpeTokenizer::token_type(std::int32_t id) const {
  check_id(id);
  return parts_.types[id];
}

}  // namespace eaq::tokenizer
