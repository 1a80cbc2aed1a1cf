// Tokenizer: the interface every vocabulary format implements (HF tokenizer.json, GGUF-embedded,
// llama2.c tokenizer.bin, GPT-2 encoder.json), plus a streaming decoder that only ever emits
// whole UTF-8 characters.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::tokenizer {

// llama.cpp's token types (GGUF tokenizer.ggml.token_type uses the same numbers).
enum class TokenType : std::int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // special tokens: <s>, <|im_start|>, ...
  kUserDefined = 4,  // added tokens that are not special
  kUnused = 5,
  kByte = 6,  // <0x41>
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Text → ids. Special tokens written in the text are recognised either way; with
  // add_special_tokens the tokenizer's post-processing (BOS, templates) is applied as HF does.
  virtual std::vector<std::int32_t> encode(std::string_view text,
                                           bool add_special_tokens = true) const = 0;

  // The bytes token `id` contributes to decoded text; `first` says it starts the output (some
  // decoders strip a leading space there). May be part of a UTF-8 character.
  virtual std::string token_bytes(std::int32_t id, bool first) const = 0;

  // Ids → text. Invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const;

  // The vocabulary piece of `id` as stored (e.g. "Ġthe", "▁the", "<0x0A>"); throws for an id out
  // of range.
  virtual std::string_view piece(std::int32_t id) const = 0;
  virtual std::optional<std::int32_t> token_id(std::string_view piece) const = 0;
  virtual std::int32_t vocab_size() const = 0;
  virtual TokenType token_type(std::int32_t id) const = 0;
  bool is_special(std::int32_t id) const { return token_type(id) == TokenType::kControl; }

  // -1 where the vocabulary has no such token.
  std::int32_t bos_id() const { return bos_id_; }
  std::int32_t eos_id() const { return eos_id_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t unk_id() const { return unk_id_; }
  // Whether encode(..., add_special_tokens=true) starts with BOS.
  bool add_bos() const { return add_bos_; }

  // What kind of tokenizer this is, e.g. "hf-bpe", "gguf-gpt2", "gguf-llama", "llama2c".
  virtual std::string_view kind() const = 0;

  void set_special_ids(std::int32_t bos, std::int32_t eos, std::int32_t pad, std::int32_t unk) {
    bos_id_ = bos;
    eos_id_ = eos;
    pad_id_ = pad;
    unk_id_ = unk;
  }
  void set_add_bos(bool add_bos) { add_bos_ = add_bos; }

 protected:
  void check_id(std::int32_t id) const;

 private:
  std::int32_t bos_id_ = -1;
  std::int32_t eos_id_ = -1;
  std::int32_t pad_id_ = -1;
  std::int32_t unk_id_ = -1;
  bool add_bos_ = false;
};

// Decodes a stream of ids one at a time (generation). Bytes of an incomplete UTF-8 character are
// held back until the character is complete; invalid bytes become U+FFFD.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}
  // The text that became complete with this token (possibly empty).
  std::string feed(std::int32_t id);
  // Flushes held-back bytes (as U+FFFD: the character never completed).
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace eaq::tokenizer
