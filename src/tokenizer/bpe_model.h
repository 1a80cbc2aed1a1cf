// BpeModel: the merge engine of byte-pair encoding as HF tokenizers runs it — a vocabulary
// (piece → id), ranked merges (pair of ids → merged id), byte fallback, unk fusing,
// ignore_merges — with a word cache for the hot path.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eaq::tokenizer {

// Hash/equality that let unordered_map<std::string, V> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept;
};
using PieceIdMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
  bool byte_fallback = false;  // unknown characters → <0xXX> tokens
  bool fuse_unk = false;       // consecutive unknown characters → one unk
  bool ignore_merges = false;  // a word that is a vocabulary piece is taken whole
  std::int32_t unk_id = -1;    // -1: unknown characters are dropped (HF without unk_token)
};

class BpeModel {
 public:
  // `pieces[id]` is the piece of token id (ids are dense; empty strings for holes).
  BpeModel(std::vector<std::string> pieces, BpeOptions options);

  // Adds a merge of rank `rank` (lower merges first). Throws eaq::Error naming `where` when a
  // side or the result is not in the vocabulary.
  void add_merge(std::string_view left, std::string_view right, std::int32_t rank,
                 std::string_view where);

  // Appends the ids of one pre-tokenized word (already byte-level mapped where applicable).
  void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

  const std::vector<std::string>& pieces() const { return pieces_; }
  std::optional<std::int32_t> find(std::string_view piece) const;
  std::size_t n_merges() const { return merges_.size(); }

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t merged_id;
  };
  void merge_word(std::string_view word, std::vector<std::int32_t>& out) const;
  static std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }

  std::vector<std::string> pieces_;
  PieceIdMap piece_to_id_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  BpeOptions options_;
  std::int32_t byte_fallback_ids_[256];

  // Words seen before (most text repeats a small set of words).
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>>
      cache_;
};

}  // namespace eaq::tokenizer
