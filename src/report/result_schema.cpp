// Schema lookups, value conversion and the row/schema consistency check.
#include "report/result_schema.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace eaq::report {

std::string_view sql_type(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "INTEGER";
    case ColumnType::kReal: return "REAL";
    case ColumnType::kText: return "TEXT";
  }
  return "TEXT";
}

std::size_t Schema::index_of(std::string_view column) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return i;
  }
  EAQ_CHECK(false, "schema {} has no column {}", name, column);
  return 0;
}

Value real(double value) {
  if (!std::isfinite(value)) return std::monostate{};
  return value;
}

bool is_null(const Value& value) { return std::holds_alternative<std::monostate>(value); }

std::string to_text(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return std::isfinite(*d) ? fmt::format("{:.17g}", *d) : "";
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return "";
}

void check_row(const Schema& schema, const Row& row) {
  EAQ_CHECK(row.size() == schema.columns.size(), "row of {} values for schema {} of {} columns", row.size(),
            schema.name, schema.columns.size());
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (is_null(row[i])) continue;
    const auto type = schema.columns[i].type;
    const bool ok = (type == ColumnType::kInteger && std::holds_alternative<std::int64_t>(row[i])) ||
                    (type == ColumnType::kReal && std::holds_alternative<double>(row[i])) ||
                    (type == ColumnType::kText && std::holds_alternative<std::string>(row[i]));
    EAQ_CHECK(ok, "column {}.{} holds a value of the wrong type", schema.name, schema.columns[i].name);
  }
}

}  // namespace eaq::report
