// llama2.c tokenizer.bin reader.
#include "tokenizer/llama2c_tokenizer_file.h"

#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace eaq::tokenizer {

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, std::int32_t vocab_size) {
  MappedFile file(path);
  const auto* data = file.data();
  std::size_t size = file.size_bytes();
  std::size_t offset = 0;
  auto read = [&](void* out, std::size_t n, const char* field) {
    if (size - offset < n) {
      fail("{}: truncated at byte offset {} while reading {} ({} bytes needed, {} left). The file is "
           "not a complete llama2.c tokenizer.bin.", path, offset, field, n, size - offset);
    }
    std::memcpy(out, data + offset, n);
    offset += n;
  };
  std::int32_t max_token_length = 0;
  read(&max_token_length, 4, "max_token_length");
  if (max_token_length <= 0 || max_token_length > (1 << 16)) {
    fail("{}: max_token_length = {} at offset 0 is not plausible", path, max_token_length);
  }
  SentencePieceVocab vocab;
  vocab.kind = "llama2c";
  while (offset < size && (vocab_size == 0 || static_cast<std::int32_t>(vocab.pieces.size()) < vocab_size)) {
    float score = 0;
    std::int32_t length = 0;
    read(&score, 4, "a token score");
    read(&length, 4, "a token length");
    if (length < 0 || length > max_token_length) {
      fail("{}: token {} at offset {} has length {} (max_token_length is {})", path, vocab.pieces.size(),
           offset - 4, length, max_token_length);
    }
    std::string piece(static_cast<std::size_t>(length), '\0');
    read(piece.data(), piece.size(), "token bytes");
    vocab.pieces.push_back(std::move(piece));
    vocab.scores.push_back(score);
  }
  if (vocab.pieces.size() < 3 + 256) {
    fail("{}: only {} tokens; a llama2.c vocabulary has <unk>, <s>, </s> and 256 byte tokens first", path,
         vocab.pieces.size());
  }
  vocab.types.assign(vocab.pieces.size(), TokenType::kNormal);
  vocab.types[0] = TokenType::kUnknown;
  vocab.types[1] = TokenType::kControl;
  vocab.types[2] = TokenType::kControl;
  for (int b = 0; b < 256; ++b) {
    vocab.byte_ids[b] = b + 3;
    vocab.types[b + 3] = TokenType::kByte;
  }
  vocab.spaces_as_metaspace = false;  // the export wrote "▁" as " "
  vocab.add_space_prefix = true;      // run.c's dummy prefix
  vocab.parse_special_tokens = false;  // run.c does not look for <s> in the text
  auto tokenizer = std::make_unique<SentencePieceTokenizer>(std::move(vocab));
  tokenizer->set_special_ids(1, 2, -1, 0);
  tokenizer->set_add_bos(true);
  return tokenizer;
}

}  // namespace eaq::tokenizer
