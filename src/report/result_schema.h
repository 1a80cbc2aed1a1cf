// Result rows that every output format is written from: a Schema (a table name and typed, documented
// columns) and Rows of values in the schema's column order. One row type, five writers (markdown,
// csv, json, jsonl, sqlite), so a figure reads the same in every format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eaq::report {

enum class ColumnType { kInteger, kReal, kText };

std::string_view sql_type(ColumnType type);  // INTEGER, REAL, TEXT

struct Column {
  std::string name;         // snake_case with the unit in it: decode_tokens_per_s, prefill_energy_j
  ColumnType type = ColumnType::kReal;
  std::string description;  // what it is and how it was obtained (measured / derived / provenance)
};

struct Schema {
  std::string name;  // the sqlite table; also the row kind in json/jsonl
  std::vector<Column> columns;
  // Index of the column `name`; throws InternalError when absent (a bug in the caller).
  std::size_t index_of(std::string_view column) const;
};

// Null: not measured (or not finite). Writers print it as empty (csv), null (json), NULL (sqlite),
// "-" (markdown).
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Row = std::vector<Value>;

// A real value; NaN and infinities become null so every format can hold it.
Value real(double value);

bool is_null(const Value& value);
// Plain text of a value: integers in decimal, reals with 17 significant digits (round-trip), text
// as is, null as "".
std::string to_text(const Value& value);

// Checks that the row has one value per column and each value is null or of the column's type
// (InternalError otherwise: the caller built a row that does not match its schema).
void check_row(const Schema& schema, const Row& row);

}  // namespace eaq::report
