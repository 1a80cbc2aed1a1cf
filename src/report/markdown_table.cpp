// Markdown table rendering. Widths count UTF-8 code points, so "±" and "Δ" do not skew the padding.
#include "report/markdown_table.h"

#include <algorithm>

namespace eaq::report {

namespace {

std::size_t display_width(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

std::string escape_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string pad(const std::string& text, std::size_t width, Align align) {
  const std::size_t w = display_width(text);
  const std::string fill(width > w ? width - w : 0, ' ');
  return align == Align::kRight ? fill + text : text + fill;
}

}  // namespace

std::string markdown_table(const std::vector<MarkdownColumn>& columns, const std::vector<std::vector<std::string>>& rows) {
  const std::size_t n = columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(n, 3);
  for (std::size_t c = 0; c < n; ++c) width[c] = std::max(width[c], display_width(escape_cell(columns[c].header)));
  for (const auto& row : rows) {
    std::vector<std::string> escaped(n);
    for (std::size_t c = 0; c < n && c < row.size(); ++c) escaped[c] = escape_cell(row[c]);
    for (std::size_t c = 0; c < n; ++c) width[c] = std::max(width[c], display_width(escaped[c]));
    cells.push_back(std::move(escaped));
  }
  std::string out = "|";
  for (std::size_t c = 0; c < n; ++c) out += " " + pad(escape_cell(columns[c].header), width[c], Align::kLeft) + " |";
  out += "\n|";
  for (std::size_t c = 0; c < n; ++c) {
    out += columns[c].align == Align::kRight ? " " + std::string(width[c] - 1, '-') + ": |"
                                             : " " + std::string(width[c], '-') + " |";
  }
  out += "\n";
  for (const auto& row : cells) {
    out += "|";
    for (std::size_t c = 0; c < n; ++c) out += " " + pad(row[c], width[c], columns[c].align) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace eaq::report
