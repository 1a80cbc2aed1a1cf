// A markdown table for the terminal: columns padded to their widest cell, numbers right-aligned.
#pragma once

#include <string>
#include <vector>

namespace eaq::report {

enum class Align { kLeft, kRight };

struct MarkdownColumn {
  std::string header;
  Align align = Align::kRight;
};

// Cells are text already formatted by the caller; a row shorter than the header is padded with
// empty cells. Pipes in cells are escaped so the table stays a table.
std::string markdown_table(const std::vector<MarkdownColumn>& columns, const std::vector<std::vector<std::string>>& rows);

}  // namespace eaq::report
