// Opening a tokenizer from whatever the user points at: tokenizer.json, a folder holding one (or
// GPT-2's encoder.json + vocab.bpe), llama2.c tokenizer.bin, or a GGUF with an embedded vocabulary.
#pragma once

#include <memory>
#include <string>

#include "io/gguf_file.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path);

// For `--model MODEL`: a .gguf (embedded vocabulary), a llama2.c checkpoint .bin (tokenizer.bin
// or tok*.bin beside it), or an HF folder with tokenizer.json.
std::unique_ptr<Tokenizer> load_tokenizer_for_model(const std::string& model_path);

}  // namespace eaq::tokenizer
