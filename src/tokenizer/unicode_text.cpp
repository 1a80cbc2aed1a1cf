// UTF-8 helpers and the GPT-2 byte-level table.
#include "tokenizer/unicode_text.h"

namespace eaq::tokenizer {

std::size_t utf8_valid_char_length(std::string_view s, std::size_t pos, bool* incomplete) {
  if (incomplete) *incomplete = false;
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return 1;
  std::size_t n;
  char32_t min_cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    min_cp = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    min_cp = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    min_cp = 0x10000;
  } else {
    return 0;
  }
  char32_t cp = b0 & (0xFF >> (n + 1));
  for (std::size_t i = 1; i < n; ++i) {
    if (pos + i >= s.size()) {
      if (incomplete) *incomplete = true;
      return 0;
    }
    auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
    // Reject overlong / surrogate / out-of-range prefixes as early as Rust does.
    if (i == 1) {
      if (n == 3 && b0 == 0xE0 && b < 0xA0) return 0;
      if (n == 3 && b0 == 0xED && b > 0x9F) return 0;
      if (n == 4 && b0 == 0xF0 && b < 0x90) return 0;
      if (n == 4 && b0 == 0xF4 && b > 0x8F) return 0;
    }
  }
  if (cp < min_cp || cp > 0x10FFFF) return 0;
  return n;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char32_t next_code_point(std::string_view s, std::size_t& pos) {
  std::size_t n = utf8_valid_char_length(s, pos);
  if (n == 0) {
    ++pos;
    return 0xFFFD;
  }
  auto b0 = static_cast<unsigned char>(s[pos]);
  char32_t cp = n == 1 ? b0 : (b0 & (0xFF >> (n + 1)));
  for (std::size_t i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  pos += n;
  return cp;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t n = utf8_valid_char_length(bytes, pos);
    if (n > 0) {
      out.append(bytes.data() + pos, n);
      pos += n;
      continue;
    }
    // A maximal valid prefix of a sequence counts as one error (Rust's from_utf8_lossy).
    std::size_t skip = 1;
    auto b0 = static_cast<unsigned char>(bytes[pos]);
    std::size_t want = utf8_sequence_length(b0);
    if (want > 1 && b0 >= 0xC2 && b0 <= 0xF4) {
      while (skip < want && pos + skip < bytes.size()) {
        // Is bytes[pos, pos+skip+1) still the valid start of a character?
        bool incomplete = false;
        std::string_view tail = bytes.substr(pos, skip + 1);
        if (utf8_valid_char_length(tail, 0, &incomplete) == 0 && !incomplete) break;
        ++skip;
      }
    }
    out += "\xEF\xBF\xBD";
    pos += skip;
  }
  return out;
}

const ByteLevelTable& byte_level_table() {
  static const ByteLevelTable table = [] {
    ByteLevelTable t;
    t.code_point_to_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      append_utf8(t.byte_to_text[b], cp);
      t.code_point_to_byte[cp] = static_cast<std::int16_t>(b);
    }
    return t;
  }();
  return table;
}

void append_byte_level(std::string& out, std::string_view bytes) {
  const auto& table = byte_level_table();
  for (unsigned char b : bytes) out += table.byte_to_text[b];
}

std::string bytes_from_byte_level(std::string_view text) {
  const auto& table = byte_level_table();
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    char32_t cp = next_code_point(text, pos);
    if (cp < 512 && table.code_point_to_byte[cp] >= 0) {
      out += static_cast<char>(table.code_point_to_byte[cp]);
    } else {
      out.append(text.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace eaq::tokenizer
