// CSV (RFC 4180) of result rows: a header line of column names, then one line per row. Fields that
// hold a comma, a quote, CR or LF are quoted, quotes doubled; null values are empty fields.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/result_schema.h"

namespace eaq::report {

std::string csv_field(const std::string& text);
std::string csv_header(const Schema& schema);  // ends with "\n"
std::string csv_line(const Schema& schema, const Row& row);  // ends with "\n"
void write_csv(std::ostream& out, const Schema& schema, const std::vector<Row>& rows);

}  // namespace eaq::report
