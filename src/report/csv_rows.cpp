// CSV writer for result rows.
#include "report/csv_rows.h"

namespace eaq::report {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string csv_header(const Schema& schema) {
  std::string line;
  for (std::size_t i = 0; i < schema.columns.size(); ++i) line += (i ? "," : "") + csv_field(schema.columns[i].name);
  return line + "\n";
}

std::string csv_line(const Schema& schema, const Row& row) {
  check_row(schema, row);
  std::string line;
  for (std::size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + csv_field(to_text(row[i]));
  return line + "\n";
}

void write_csv(std::ostream& out, const Schema& schema, const std::vector<Row>& rows) {
  out << csv_header(schema);
  for (const auto& row : rows) out << csv_line(schema, row);
}

}  // namespace eaq::report
