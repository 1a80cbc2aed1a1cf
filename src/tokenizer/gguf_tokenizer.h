// Tokenizers embedded in GGUF files: tokenizer.ggml.model "gpt2" (byte-level BPE with the
// pre-tokenizer regexes named by tokenizer.ggml.pre, as llama.cpp) and "llama" (sentencepiece).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

std::unique_ptr<Tokenizer> load_tokenizer_from_gguf(const gguf::GgufFile& file);

// The split regexes llama.cpp applies, in order, for a tokenizer.ggml.pre name; throws
// eaq::Error for names eaq does not know.
std::vector<std::string> gguf_pre_tokenizer_regexes(const std::string& pre, const std::string& path);

}  // namespace eaq::tokenizer
