// Decoders of HF tokenizer.json (ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip,
// Sequence), applied one token at a time so that generation can stream: each step maps a
// token's piece to the bytes it contributes.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace eaq::tokenizer {

class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  // Rewrites one token's text; `first` says it is the first token of the output.
  virtual void decode_token(std::string& text, bool first) const = 0;
};

std::unique_ptr<TokenDecoder> make_byte_level_decoder();
// Metaspace: the replacement becomes a space; with a prepend scheme other than "never" the
// first token loses one leading space.
std::unique_ptr<TokenDecoder> make_metaspace_decoder(std::string replacement, bool strip_first_space);
std::unique_ptr<TokenDecoder> make_replace_decoder(std::string pattern, std::string content);
std::unique_ptr<TokenDecoder> make_byte_fallback_decoder();
// Strip: removes up to `start` leading `content` characters (of the first token when the chain
// fuses tokens first, else of every token) and up to `stop` trailing ones.
std::unique_ptr<TokenDecoder> make_strip_decoder(std::string content, int start, int stop,
                                                 bool only_first_token);
std::unique_ptr<TokenDecoder> make_sequence_decoder(std::vector<std::unique_ptr<TokenDecoder>> steps);

}  // namespace eaq::tokenizer
