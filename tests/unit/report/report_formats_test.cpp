// Every output format round-trips through a parser: csv through an RFC 4180 reader written here,
// json/jsonl through nlohmann, sqlite through the sqlite3 C API reading the file back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "report/csv_rows.h"
#include "report/json_rows.h"
#include "report/markdown_table.h"
#include "report/sqlite_result_store.h"

namespace eaq::report {
namespace {

namespace fs = std::filesystem;

Schema test_schema() {
  return Schema{"results", {{"name", ColumnType::kText, "text"},
                            {"count", ColumnType::kInteger, "integer"},
                            {"speed_tokens_per_s", ColumnType::kReal, "real"},
                            {"note", ColumnType::kText, "text that may be null"}}};
}

std::vector<Row> test_rows() {
  return {
      {std::string("plain"), std::int64_t{3}, 1234.5678901234567, std::string("ok")},
      {std::string("comma, \"quote\"\nnewline"), std::int64_t{-7}, 1e-300, Value{}},
      {std::string("ünïcödé ±"), std::int64_t{0}, real(std::numeric_limits<double>::quiet_NaN()), std::string("")},
  };
}

// RFC 4180: fields separated by commas, quoted fields may hold commas, CR/LF and doubled quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
    } else if (c == '\n') {
      record.push_back(field);
      field.clear();
      records.push_back(record);
      record.clear();
    } else {
      field += c;
    }
  }
  return records;
}

TEST(CsvRows, RoundTripsThroughAnRfc4180Reader) {
  const auto schema = test_schema();
  std::ostringstream out;
  write_csv(out, schema, test_rows());
  const auto records = parse_csv(out.str());
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0], (std::vector<std::string>{"name", "count", "speed_tokens_per_s", "note"}));
  EXPECT_EQ(records[1][0], "plain");
  EXPECT_EQ(std::stoll(records[1][1]), 3);
  EXPECT_EQ(std::stod(records[1][2]), 1234.5678901234567);  // 17 significant digits: exact
  EXPECT_EQ(records[2][0], "comma, \"quote\"\nnewline");
  EXPECT_EQ(std::stoll(records[2][1]), -7);
  EXPECT_EQ(std::stod(records[2][2]), 1e-300);
  EXPECT_EQ(records[2][3], "");  // null
  EXPECT_EQ(records[3][0], "ünïcödé ±");
  EXPECT_EQ(records[3][2], "");  // NaN became null
}

TEST(JsonRows, RoundTripThroughNlohmann) {
  const auto schema = test_schema();
  std::string jsonl;
  for (const auto& row : test_rows()) jsonl += jsonl_line(to_json(schema, row));
  std::istringstream in(jsonl);
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(in, line);) parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[0]["name"], "plain");
  EXPECT_EQ(parsed[0]["count"], 3);
  EXPECT_EQ(parsed[0]["speed_tokens_per_s"].get<double>(), 1234.5678901234567);
  EXPECT_EQ(parsed[1]["name"], "comma, \"quote\"\nnewline");
  EXPECT_TRUE(parsed[1]["note"].is_null());
  EXPECT_EQ(parsed[1]["speed_tokens_per_s"].get<double>(), 1e-300);
  EXPECT_TRUE(parsed[2]["speed_tokens_per_s"].is_null());
  EXPECT_EQ(parsed[2]["name"], "ünïcödé ±");
}

TEST(ResultSchema, RowsThatDoNotMatchTheSchemaAreBugs) {
  const auto schema = test_schema();
  EXPECT_THROW(check_row(schema, Row{std::string("x")}), InternalError);
  EXPECT_THROW(check_row(schema, Row{std::int64_t{1}, std::int64_t{1}, 1.0, Value{}}), InternalError);
  EXPECT_NO_THROW(check_row(schema, Row{Value{}, Value{}, Value{}, Value{}}));
}

class SqliteResultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("eaq_report_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "results.sqlite").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteResultStoreTest, RowsReadBackWithTheSqliteApi) {
  const auto schema = test_schema();
  {
    SqliteResultStore store(path_);
    store.ensure_table(schema);
    for (const auto& row : test_rows()) store.insert(schema, row);
  }
  {  // a second run appends
    SqliteResultStore store(path_);
    store.ensure_table(schema);
    store.insert(schema, test_rows()[0]);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT name, count, speed_tokens_per_s, note FROM results ORDER BY rowid", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  std::vector<std::string> names;
  std::vector<std::int64_t> counts;
  std::vector<int> speed_types, note_types;
  std::vector<double> speeds;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    counts.push_back(sqlite3_column_int64(stmt, 1));
    speed_types.push_back(sqlite3_column_type(stmt, 2));
    speeds.push_back(sqlite3_column_double(stmt, 2));
    note_types.push_back(sqlite3_column_type(stmt, 3));
  }
  sqlite3_finalize(stmt);
  char* integrity = nullptr;
  std::string integrity_result;
  sqlite3_exec(db, "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0];
    return 0;
  }, &integrity_result, &integrity);
  sqlite3_close(db);
  EXPECT_EQ(integrity_result, "ok");
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[1], "comma, \"quote\"\nnewline");
  EXPECT_EQ(names[2], "ünïcödé ±");
  EXPECT_EQ(counts, (std::vector<std::int64_t>{3, -7, 0, 3}));
  EXPECT_EQ(speeds[0], 1234.5678901234567);
  EXPECT_EQ(speeds[1], 1e-300);
  EXPECT_EQ(speed_types[2], SQLITE_NULL);  // NaN stored as NULL
  EXPECT_EQ(note_types[1], SQLITE_NULL);
  EXPECT_EQ(note_types[2], SQLITE_TEXT);
}

TEST_F(SqliteResultStoreTest, ColumnsOfANewerSchemaAreAddedToAnOlderTable) {
  auto old_schema = test_schema();
  old_schema.columns.pop_back();
  {
    SqliteResultStore store(path_);
    store.ensure_table(old_schema);
    store.insert(old_schema, Row{std::string("old"), std::int64_t{1}, 2.0});
  }
  SqliteResultStore store(path_);
  store.ensure_table(test_schema());
  store.insert(test_schema(), test_rows()[0]);
}

TEST_F(SqliteResultStoreTest, BadPathsAreClearErrors) {
  try {
    SqliteResultStore store((dir_ / "no_such_dir" / "x.sqlite").string());
    FAIL() << "opening a file in a missing directory must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open the results database"), std::string::npos) << e.what();
  }
  const auto not_a_database = (dir_ / "text.sqlite").string();
  std::ofstream(not_a_database) << "this is not a database, just text that is long enough to have a header....\n";
  EXPECT_THROW(SqliteResultStore store(not_a_database), Error);
}

TEST(MarkdownTable, PadsAlignsAndEscapes) {
  const auto table = markdown_table({{"name", Align::kLeft}, {"value"}}, {{"a|b", "1.5"}, {"±", "10"}});
  EXPECT_EQ(table,
            "| name | value |\n"
            "| ---- | ----: |\n"
            "| a\\|b |   1.5 |\n"
            "| ±    |    10 |\n");
}

}  // namespace
}  // namespace eaq::report
