// libFuzzer target: tokenizer.json parsing (and a short encode/decode of the result) must raise
// eaq::Error on bad input, never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "tokenizer/hf_tokenizer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tokenizer = eaq::tokenizer::parse_hf_tokenizer_json(text, "fuzz/tokenizer.json");
    auto ids = tokenizer->encode("Hello, world! 123 日本 <s>", true);
    (void)tokenizer->decode(ids);
  } catch (const eaq::Error&) {
  }
  return 0;
}
