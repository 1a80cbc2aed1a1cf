// UTF-8 helpers for the tokenizers: code point iteration, validation with U+FFFD replacement,
// and GPT-2's byte↔printable-character table used by byte-level BPE.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace eaq::tokenizer {

// Length of the UTF-8 sequence starting with `lead` (1 for invalid lead bytes).
inline std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Length of the valid UTF-8 character at s[pos] (0 if the bytes there are invalid; returns the
// needed length via `incomplete` when the input ends mid-character).
std::size_t utf8_valid_char_length(std::string_view s, std::size_t pos, bool* incomplete = nullptr);

// Appends code point `cp` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// Decodes one code point at s[pos] (advancing pos); invalid bytes decode as U+FFFD, one byte each.
char32_t next_code_point(std::string_view s, std::size_t& pos);

// `bytes` with each invalid sequence replaced by U+FFFD (as Rust's String::from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

// GPT-2 bytes_to_unicode: every byte maps to a printable code point, encoded here as UTF-8.
struct ByteLevelTable {
  std::array<std::string, 256> byte_to_text;
  // code point (< 512) → byte, or -1.
  std::array<std::int16_t, 512> code_point_to_byte;
};
const ByteLevelTable& byte_level_table();

// Maps raw bytes to byte-level text ("Ġ" for space, ...), appending to `out`.
void append_byte_level(std::string& out, std::string_view bytes);
// Maps byte-level text back to bytes; characters outside the table are kept as they are.
std::string bytes_from_byte_level(std::string_view text);

}  // namespace eaq::tokenizer
