// BpeModel: HF tokenizers' BPE merge loop (a priority queue of (rank, position) over a linked
// list of symbols), byte fallback and unk handling.
#include "tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <queue>

#include "core/error.h"
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {

std::size_t StringHash::operator()(std::string_view s) const noexcept {
  // FNV-1a: short pieces, and fast enough not to matter next to the merge loop.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

BpeModel::BpeModel(std::vector<std::string> pieces, BpeOptions options)
    : pieces_(std::move(pieces)), options_(options) {
  piece_to_id_.reserve(pieces_.size() * 2);
  for (std::size_t id = 0; id < pieces_.size(); ++id) {
    if (pieces_[id].empty()) continue;
    piece_to_id_.emplace(pieces_[id], static_cast<std::int32_t>(id));
  }
  for (int b = 0; b < 256; ++b) {
    auto it = piece_to_id_.find(fmt::format("<0x{:02X}>", b));
    byte_fallback_ids_[b] = it == piece_to_id_.end() ? -1 : it->second;
  }
}

std::optional<std::int32_t> BpeModel::find(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  if (it == piece_to_id_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::add_merge(std::string_view left, std::string_view right, std::int32_t rank,
                         std::string_view where) {
  auto l = find(left);
  auto r = find(right);
  if (!l || !r) {
    fail("{}: merge \"{} {}\" (rank {}) refers to a token that is not in the vocabulary ('{}'). "
         "The merges and the vocabulary do not belong together; re-export the tokenizer.",
         where, left, right, rank, !l ? left : right);
  }
  std::string merged;
  merged.reserve(left.size() + right.size());
  merged.append(left).append(right);
  auto m = find(merged);
  if (!m) {
    fail("{}: merge \"{} {}\" (rank {}) produces '{}', which is not in the vocabulary. "
         "Re-export the tokenizer.",
         where, left, right, rank, merged);
  }
  // First occurrence wins, as in HF (later duplicates would have a worse rank anyway).
  merges_.try_emplace(pair_key(*l, *r), Merge{rank, *m});
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = find(word)) {
      out.push_back(*id);
      return;
    }
  }
  constexpr std::size_t kMaxCachedWordBytes = 64;
  if (word.size() <= kMaxCachedWordBytes) {
    {
      std::lock_guard lock(cache_mutex_);
      auto it = cache_.find(word);
      if (it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::size_t start = out.size();
    merge_word(word, out);
    std::lock_guard lock(cache_mutex_);
    constexpr std::size_t kMaxCacheEntries = 1 << 18;  // bounded memory
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::vector<std::int32_t>(out.begin() + start, out.end()));
    return;
  }
  merge_word(word, out);
}

void BpeModel::merge_word(std::string_view word, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    bool alive;
  };
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  // Initial symbols: one per character; unknown characters via byte fallback or unk.
  bool pending_unk = false;
  auto push = [&](std::int32_t id) {
    symbols.push_back(Symbol{id, static_cast<std::int32_t>(symbols.size()) - 1,
                             static_cast<std::int32_t>(symbols.size()) + 1, true});
  };
  std::size_t pos = 0;
  while (pos < word.size()) {
    std::size_t n = utf8_sequence_length(static_cast<unsigned char>(word[pos]));
    if (pos + n > word.size()) n = word.size() - pos;
    std::string_view ch = word.substr(pos, n);
    pos += n;
    if (auto id = find(ch)) {
      if (pending_unk) {
        push(options_.unk_id);
        pending_unk = false;
      }
      push(*id);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (unsigned char b : ch) all = all && byte_fallback_ids_[b] >= 0;
      if (all) {
        if (pending_unk) {
          push(options_.unk_id);
          pending_unk = false;
        }
        for (unsigned char b : ch) push(byte_fallback_ids_[b]);
        continue;
      }
    }
    if (options_.unk_id >= 0) {
      if (options_.fuse_unk) {
        pending_unk = true;
      } else {
        push(options_.unk_id);
      }
    }
  }
  if (pending_unk) push(options_.unk_id);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    std::int32_t rank;
    std::int32_t pos;
    std::int32_t merged_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<Candidate> heap_storage;
  heap_storage.clear();
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(
      std::greater<>{}, std::move(heap_storage));
  auto consider = [&](std::int32_t i) {
    if (i < 0) return;
    std::int32_t j = symbols[i].next;
    if (j < 0) return;
    auto it = merges_.find(pair_key(symbols[i].id, symbols[j].id));
    if (it != merges_.end()) queue.push(Candidate{it->second.rank, i, it->second.merged_id});
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.merged_id != top.merged_id) continue;  // stale entry
    left.id = top.merged_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace eaq::tokenizer
