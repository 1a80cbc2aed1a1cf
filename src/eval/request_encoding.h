// Request encoding as lm-evaluation-harness's HF backend does it (HFLM, lm-eval 0.4.x), so that
// eaq scores exactly the tokens lm-eval scores:
//   - a log-likelihood request (context, continuation): trailing whitespace of the context moves to
//     the continuation (Python's str.rstrip()); context + continuation is encoded whole and the
//     continuation is what follows the first len(encode(context)) tokens (lm-eval's _encode_pair);
//     an empty context becomes the prefix token (BOS, else EOS), as lm-eval's loglikelihood();
//   - a generation prompt is encoded as it stands.
// Both use the tokenizer's own special-token behaviour (encode(text, add_special_tokens=true)),
// which is lm-eval's default (add_bos_token=None: "use the tokenizer's default").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace eaq::eval {

struct EncodedRequest {
  std::vector<std::int32_t> context_ids;
  std::vector<std::vector<std::int32_t>> continuation_ids;  // one per continuation
};

// The length in bytes of `text` without its trailing whitespace, where whitespace is what
// Python's str.isspace() accepts (ASCII \t\n\v\f\r, \x1c-\x1f, space, and the Unicode spaces).
std::size_t rstrip_length(std::string_view text);

// Encodes one context with several continuations (each encoded against the same context, as
// lm-eval builds one request per choice). eaq::Error when a continuation adds no token.
EncodedRequest encode_loglikelihood_request(const tokenizer::Tokenizer& tokenizer, std::string_view context,
                                            const std::vector<std::string>& continuations);

std::vector<std::int32_t> encode_generation_prompt(const tokenizer::Tokenizer& tokenizer, std::string_view prompt);

}  // namespace eaq::eval
