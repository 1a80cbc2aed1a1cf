// Loader of HF tokenizer.json (BPE models: byte-level and sentencepiece-style) into a
// BpeTokenizer. Every malformed field raises eaq::Error naming the file and the field.
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace eaq::tokenizer {

// `json_text` is the file's content; `source` names it in errors. `config_json_text` is the
// optional tokenizer_config.json beside it (bos/eos/pad/unk names, add_bos_token); may be empty.
std::unique_ptr<Tokenizer> parse_hf_tokenizer_json(std::string_view json_text, std::string_view source,
                                                   std::string_view config_json_text = {});

// Reads `path` (and tokenizer_config.json in the same folder, when present).
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path);

// GPT-2's original files: encoder.json (piece → id) and vocab.bpe (merges).
std::unique_ptr<Tokenizer> load_gpt2_encoder_files(const std::string& encoder_json_path,
                                                   const std::string& vocab_bpe_path);

}  // namespace eaq::tokenizer
