// JSON of result rows: one object per row, keyed by column name, null for values not measured.
// jsonl = one such object per line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "report/result_schema.h"

namespace eaq::report {

nlohmann::json to_json(const Schema& schema, const Row& row);
// One line of JSON (ends with "\n"); invalid UTF-8 in text is replaced, never thrown on.
std::string jsonl_line(const nlohmann::json& object);

}  // namespace eaq::report
