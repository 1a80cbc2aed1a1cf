// llama2.c's tokenizer.bin (max token length, then per token: float score, int32 length, bytes)
// → SentencePieceTokenizer with run.c's conventions (BOS = 1, EOS = 2, byte b = id b + 3,
// a " " dummy prefix).
#pragma once

#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

// `vocab_size` is the checkpoint's (tokenizer.bin does not record it); 0 reads to the file's end.
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, std::int32_t vocab_size = 0);

}  // namespace eaq::tokenizer
