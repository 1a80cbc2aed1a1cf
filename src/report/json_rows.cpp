// JSON writer for result rows.
#include "report/json_rows.h"

#include <cmath>

namespace eaq::report {

nlohmann::json to_json(const Schema& schema, const Row& row) {
  check_row(schema, row);
  nlohmann::json object = nlohmann::json::object();
  for (std::size_t i = 0; i < row.size(); ++i) {
    const auto& name = schema.columns[i].name;
    const auto& value = row[i];
    if (const auto* n = std::get_if<std::int64_t>(&value)) {
      object[name] = *n;
    } else if (const auto* d = std::get_if<double>(&value)) {
      object[name] = std::isfinite(*d) ? nlohmann::json(*d) : nlohmann::json(nullptr);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      object[name] = *s;
    } else {
      object[name] = nullptr;
    }
  }
  return object;
}

std::string jsonl_line(const nlohmann::json& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace eaq::report
