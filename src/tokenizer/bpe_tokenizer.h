// BpeTokenizer: the HF tokenizers pipeline around a BpeModel — added tokens matched in the raw
// text, normalizer, pre-tokenizer, BPE, post-processing (BOS/EOS template) and decoder. Built by
// the tokenizer.json, GGUF gpt2 and GPT-2 encoder.json loaders.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/token_decoder.h"
#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

struct AddedToken {
  std::string content;
  std::int32_t id = -1;
  bool special = true;
  bool lstrip = false;       // swallows whitespace on its left
  bool rstrip = false;       // swallows whitespace on its right
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // matched in the normalized text rather than the raw text
};

struct BpeTokenizerParts {
  std::string kind;
  std::vector<std::string> pieces;  // every id, model and added
  std::vector<TokenType> types;     // same size as pieces
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<Normalizer> normalizer;      // optional
  std::unique_ptr<PreTokenizer> pre_tokenizer;  // optional
  std::unique_ptr<TokenDecoder> decoder;        // optional
  std::vector<AddedToken> added_tokens;
  // Post-processing with add_special_tokens: ids before and after the text.
  std::vector<std::int32_t> prefix_ids;
  std::vector<std::int32_t> suffix_ids;
};

class BpeTokenizer : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeTokenizerParts parts);

  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string token_bytes(std::int32_t id, bool first) const override;
  std::string_view piece(std::int32_t id) const override;
  std::optional<std::int32_t> token_id(std::string_view piece) const override;
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(parts_.pieces.size()); }
  TokenType token_type(std::int32_t id) const override;
  std::string_view kind() const override { return parts_.kind; }

 private:
  struct Segment {
    std::size_t start, end;
    std::int32_t added_id;  // -1: ordinary text
  };
  // Cuts `text` at occurrences of the added tokens with normalized == `normalized`.
  void split_added(std::string_view text, bool normalized, std::vector<Segment>& out) const;
  void encode_text(std::string_view text, bool at_text_start, std::vector<std::int32_t>& ids) const;

  BpeTokenizerParts parts_;
  PieceIdMap piece_to_id_;
  // Added tokens by first byte, longest first (leftmost-longest matching).
  std::vector<std::int32_t> added_by_first_byte_[2][256];
  bool has_normalized_added_ = false;
};

}  // namespace eaq::tokenizer
