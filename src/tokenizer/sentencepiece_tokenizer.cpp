// SentencePieceTokenizer: llama.cpp's llm_tokenizer_spm algorithm (bigram queue by score,
// leftmost on ties; resegmentation into byte tokens).
#include "tokenizer/sentencepiece_tokenizer.h"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <queue>

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {

SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceVocab vocab) : vocab_(std::move(vocab)) {
  EAQ_CHECK(vocab_.scores.size() == vocab_.pieces.size() && vocab_.types.size() == vocab_.pieces.size(),
            "sentencepiece vocabulary arrays differ in size");
  piece_to_id_.reserve(vocab_.pieces.size() * 2);
  for (std::size_t id = 0; id < vocab_.pieces.size(); ++id) {
    piece_to_id_.try_emplace(vocab_.pieces[id], static_cast<std::int32_t>(id));
  }
  if (vocab_.parse_special_tokens) {
    for (std::size_t id = 0; id < vocab_.pieces.size(); ++id) {
      auto type = vocab_.types[id];
      if ((type == TokenType::kControl || type == TokenType::kUserDefined) && !vocab_.pieces[id].empty()) {
        special_ids_.push_back(static_cast<std::int32_t>(id));
      }
    }
    std::stable_sort(special_ids_.begin(), special_ids_.end(), [&](std::int32_t a, std::int32_t b) {
      return vocab_.pieces[a].size() > vocab_.pieces[b].size();
    });
  }
}

std::optional<std::int32_t> SentencePieceTokenizer::token_id(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  if (it == piece_to_id_.end()) return std::nullopt;
  return it->second;
}

std::string_view SentencePieceTokenizer::piece(std::int32_t id) const {
  check_id(id);
  return vocab_.pieces[id];
}

TokenType SentencePieceTokenizer::token_type(std::int32_t id) const {
  check_id(id);
  return vocab_.types[id];
}

void SentencePieceTokenizer::encode_fragment(std::string_view text, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t prev, next;
    std::size_t start, length;  // bytes of `text`
  };
  std::vector<Symbol> symbols;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t n = std::min(utf8_sequence_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
    auto index = static_cast<std::int32_t>(symbols.size());
    symbols.push_back({index - 1, pos + n == text.size() ? -1 : index + 1, pos, n});
    pos += n;
  }
  struct Bigram {
    float score;
    std::int32_t left, right;
    std::size_t length;
    bool operator<(const Bigram& o) const {  // max score first, then leftmost
      return score < o.score || (score == o.score && left > o.left);
    }
  };
  std::priority_queue<Bigram> queue;
  // Which two symbols each merged piece came from, for resegmentation.
  std::unordered_map<std::string, std::pair<std::int32_t, std::int32_t>> reverse_merge;
  auto try_add = [&](std::int32_t left, std::int32_t right) {
    if (left < 0 || right < 0) return;
    std::string_view joined = text.substr(symbols[left].start, symbols[left].length + symbols[right].length);
    auto it = piece_to_id_.find(joined);
    if (it == piece_to_id_.end()) return;
    queue.push({vocab_.scores[it->second], left, right, joined.size()});
    reverse_merge.try_emplace(std::string(joined), left, right);
  };
  for (std::int32_t i = 1; i < static_cast<std::int32_t>(symbols.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    Bigram top = queue.top();
    queue.pop();
    auto& left = symbols[top.left];
    auto& right = symbols[top.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != top.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    try_add(left.prev, top.left);
    try_add(top.left, left.next);
  }
  // Resegment: pieces not in the vocabulary fall back to their parts, then to bytes.
  std::function<void(std::string_view)> resegment = [&](std::string_view s) {
    if (auto it = piece_to_id_.find(s); it != piece_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
    if (auto it = reverse_merge.find(std::string(s)); it != reverse_merge.end()) {
      const auto& [l, r] = it->second;
      std::size_t left_bytes = symbols[r].start - symbols[l].start;
      resegment(s.substr(0, left_bytes));
      resegment(s.substr(left_bytes));
      return;
    }
    for (unsigned char b : s) {
      if (vocab_.byte_ids[b] >= 0) out.push_back(vocab_.byte_ids[b]);
      else if (unk_id() >= 0) out.push_back(unk_id());
    }
  };
  for (std::int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    resegment(text.substr(symbols[i].start, symbols[i].length));
  }
}

std::vector<std::int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<std::int32_t> ids;
  if (add_special_tokens && add_bos() && bos_id() >= 0) ids.push_back(bos_id());
  bool previous_special = true;
  auto encode_text = [&](std::string_view fragment) {
    std::string escaped;
    escaped.reserve(fragment.size() + 8);
    if (vocab_.add_space_prefix && previous_special) escaped += vocab_.spaces_as_metaspace ? "\u2581" : " ";
    for (char c : fragment) {
      if (c == ' ' && vocab_.spaces_as_metaspace) {
        escaped += "\u2581";
      } else {
        escaped += c;
      }
    }
    encode_fragment(escaped, ids);
    previous_special = false;
  };
  std::size_t segment_start = 0;
  std::size_t pos = 0;
  while (pos < text.size() && !special_ids_.empty()) {
    std::int32_t found = -1;
    for (auto id : special_ids_) {
      const auto& p = vocab_.pieces[id];
      if (static_cast<unsigned char>(p[0]) == static_cast<unsigned char>(text[pos]) &&
          text.compare(pos, p.size(), p) == 0) {
        found = id;
        break;
      }
    }
    if (found < 0) {
      ++pos;
      continue;
    }
    if (pos > segment_start) encode_text(text.substr(segment_start, pos - segment_start));
    ids.push_back(found);
    previous_special = true;
    pos += vocab_.pieces[found].size();
    segment_start = pos;
  }
  if (segment_start < text.size()) encode_text(text.substr(segment_start));
  if (add_special_tokens && vocab_.add_eos && eos_id() >= 0) ids.push_back(eos_id());
  return ids;
}

std::string SentencePieceTokenizer::token_bytes(std::int32_t id, bool first) const {
  check_id(id);
  if (vocab_.types[id] == TokenType::kByte) {
    for (int b = 0; b < 256; ++b) {
      if (vocab_.byte_ids[b] == id) return std::string(1, static_cast<char>(b));
    }
  }
  std::string text = vocab_.pieces[id];
  if (vocab_.spaces_as_metaspace) {
    std::string out;
    for (std::size_t pos = 0; pos < text.size();) {
      if (text.compare(pos, 3, "\u2581") == 0) {
        out += ' ';
        pos += 3;
      } else {
        out += text[pos++];
      }
    }
    text = std::move(out);
  }
  // The space the encoder put in front of the text is not part of it.
  if (first && vocab_.add_space_prefix && text.starts_with(' ')) text.erase(0, 1);
  return text;
}

}  // namespace eaq::tokenizer
