// SentencePieceTokenizer: score-driven BPE over a sentencepiece vocabulary (pieces + scores +
// types) as llama.cpp's SPM tokenizer and llama2.c's run.c do it: merge the adjacent pair whose
// joined piece has the highest score, then map leftover characters to byte tokens.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

struct SentencePieceVocab {
  std::string kind;  // "gguf-llama", "llama2c"
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<TokenType> types;
  // Pieces spell spaces as "▁" (sentencepiece / GGUF) rather than " " (llama2.c's export).
  bool spaces_as_metaspace = true;
  // Put a space in front of the text (and after each special token), as sentencepiece's
  // add_dummy_prefix.
  bool add_space_prefix = false;
  // Byte token for each byte value, -1 where missing.
  std::array<std::int32_t, 256> byte_ids{};
  // Control and user-defined tokens are recognised in the text.
  bool parse_special_tokens = true;
  bool add_eos = false;
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(SentencePieceVocab vocab);

  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string token_bytes(std::int32_t id, bool first) const override;
  std::string_view piece(std::int32_t id) const override;
  std::optional<std::int32_t> token_id(std::string_view piece) const override;
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(vocab_.pieces.size()); }
  TokenType token_type(std::int32_t id) const override;
  std::string_view kind() const override { return vocab_.kind; }

 private:
  void encode_fragment(std::string_view text, std::vector<std::int32_t>& out) const;

  SentencePieceVocab vocab_;
  PieceIdMap piece_to_id_;
  std::vector<std::int32_t> special_ids_;  // longest first
};

}  // namespace eaq::tokenizer
