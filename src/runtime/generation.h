// generate(): prefill the prompt, then sample and decode token by token until max_new_tokens,
// a stop token or a stop string — streaming text through a callback, timing every step.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"

namespace eaq::runtime {

struct GenerationOptions {
  std::int64_t max_new_tokens = 128;
  SamplingParams sampling;
  std::vector<std::int32_t> stop_tokens;  // e.g. the tokenizer's EOS / end-of-turn ids
  std::vector<std::string> stop_strings;  // generation stops once the text contains one
};

struct GenerationResult {
  std::vector<std::int32_t> tokens;  // generated ids, the stop token excluded
  std::string text;                  // generated text, cut before a stop string
  std::string stop_reason;           // "length" | "stop_token" | "stop_string"
  std::int64_t prompt_tokens = 0;
  double prefill_s = 0;
  double time_to_first_token_s = 0;
  std::vector<double> inter_token_latency_s;  // one per decode step
  double decode_s = 0;
};

// decode_piece(id) returns the text that id completes (the tokenizer's streaming decoder: it
// holds back incomplete UTF-8). on_text receives text as it becomes final (held back while it
// could still be the start of a stop string).
GenerationResult generate(Session& session, std::span<const std::int32_t> prompt,
                          const GenerationOptions& options,
                          const std::function<std::string(std::int32_t)>& decode_piece,
                          const std::function<void(std::string_view)>& on_text);

}  // namespace eaq::runtime
