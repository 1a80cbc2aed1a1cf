// generate(): the decode loop. Text that might begin a stop string is held back, not streamed.
#include "runtime/generation.h"

#include <chrono>

#include "core/error.h"

namespace eaq::runtime {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
std::size_t held_back_length(std::string_view text, const std::vector<std::string>& stops) {
  std::size_t hold = 0;
  for (const auto& stop : stops) {
    for (std::size_t n = std::min(stop.size() - 1, text.size()); n > hold; --n) {
      if (text.substr(text.size() - n) == std::string_view(stop).substr(0, n)) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}
}  // namespace

GenerationResult generate(Session& session, std::span<const std::int32_t> prompt,
                          const GenerationOptions& options,
                          const std::function<std::string(std::int32_t)>& decode_piece,
                          const std::function<void(std::string_view)>& on_text) {
  if (options.max_new_tokens < 0) fail("-n {} is invalid: use 0 or more new tokens", options.max_new_tokens);
  for (const auto& s : options.stop_strings) {
    if (s.empty()) fail("an empty stop string would stop at once; remove it");
  }
  options.sampling.validate();
  Sampler sampler(options.sampling);
  GenerationResult result;
  result.prompt_tokens = static_cast<std::int64_t>(prompt.size());
  result.stop_reason = "length";

  std::vector<std::int32_t> history(prompt.begin(), prompt.end());
  auto start = Clock::now();
  std::span<const float> logits = session.prefill(prompt);
  result.prefill_s = seconds_since(start);

  std::size_t streamed = 0;  // bytes of result.text already given to on_text
  for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
    auto step_start = Clock::now();
    if (step > 0 && session.n_past() >= session.context_size()) {
      result.stop_reason = "context_full";
      break;
    }
    // The first token comes from the prompt's logits; later ones from a decode step, sampled
    // where the model keeps its logits (on the GPU only the token comes back).
    const std::int32_t token = step == 0 ? sampler.sample(logits, history)
                                         : session.decode_and_sample(history.back(), sampler, history);
    if (step == 0) {
      result.time_to_first_token_s = seconds_since(start);
    } else {
      double dt = seconds_since(step_start);
      result.inter_token_latency_s.push_back(dt);
      result.decode_s += dt;
    }
    bool is_stop_token = false;
    for (auto s : options.stop_tokens) is_stop_token |= s == token;
    if (is_stop_token) {
      result.stop_reason = "stop_token";
      break;
    }
    history.push_back(token);
    result.tokens.push_back(token);
    result.text += decode_piece(token);

    bool stopped = false;
    for (const auto& stop : options.stop_strings) {
      auto at = result.text.find(stop, streamed > stop.size() ? streamed - stop.size() : 0);
      if (at != std::string::npos) {
        result.text.resize(at);
        stopped = true;
      }
    }
    std::size_t final_bytes = stopped ? result.text.size()
                                      : result.text.size() - held_back_length(result.text, options.stop_strings);
    if (final_bytes > streamed && on_text) on_text(std::string_view(result.text).substr(streamed, final_bytes - streamed));
    streamed = std::max(streamed, final_bytes);
    if (stopped) {
      result.stop_reason = "stop_string";
      break;
    }
  }
  if (streamed < result.text.size() && on_text) on_text(std::string_view(result.text).substr(streamed));
  return result;
}

}  // namespace eaq::runtime
