// SQLite writer: plain SQL through the C API; identifiers are quoted, values bound, never pasted.
#include "report/sqlite_result_store.h"

#include <sqlite3.h>

#include <set>

#include "core/error.h"

namespace eaq::report {

namespace {

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Finalizes a prepared statement on every path.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

}  // namespace

SqliteResultStore::SqliteResultStore(const std::string& path) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    fail("cannot open the results database '{}': {}; check that the directory exists and is writable", path,
         message);
  }
  sqlite3_busy_timeout(db_, 10'000);
  try {
    // A rollback journal keeps every committed row in the one file (WAL would keep recent rows in
    // FILE-wal until a checkpoint, and a copy of FILE alone would miss them).
    exec("PRAGMA journal_mode=DELETE");
    exec("PRAGMA synchronous=FULL");
    // A file that is not a database fails here, not at the first insert.
    exec("SELECT count(*) FROM sqlite_master");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteResultStore::~SqliteResultStore() { sqlite3_close(db_); }

void SqliteResultStore::fail_sqlite(const std::string& what) const {
  fail("results database '{}': {} failed: {}", path_, what, sqlite3_errmsg(db_));
}

void SqliteResultStore::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    fail("results database '{}': '{}' failed: {} (is it a SQLite file eaq wrote, and writable?)", path_,
         sql.substr(0, 60), text);
  }
}

void SqliteResultStore::ensure_table(const Schema& schema) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quote_identifier(schema.name) + " (";
  for (std::size_t i = 0; i < schema.columns.size(); ++i) {
    sql += (i ? ", " : "") + quote_identifier(schema.columns[i].name) + " " + std::string(sql_type(schema.columns[i].type));
  }
  exec(sql + ")");

  std::set<std::string> existing;
  Statement info;
  const std::string pragma = "PRAGMA table_info(" + quote_identifier(schema.name) + ")";
  if (sqlite3_prepare_v2(db_, pragma.c_str(), -1, &info.stmt, nullptr) != SQLITE_OK) fail_sqlite("reading table_info");
  while (sqlite3_step(info.stmt) == SQLITE_ROW) {
    existing.insert(reinterpret_cast<const char*>(sqlite3_column_text(info.stmt, 1)));
  }
  for (const auto& column : schema.columns) {
    if (existing.count(column.name) == 0) {
      exec("ALTER TABLE " + quote_identifier(schema.name) + " ADD COLUMN " + quote_identifier(column.name) + " " +
           std::string(sql_type(column.type)));
    }
  }
}

void SqliteResultStore::insert(const Schema& schema, const Row& row) {
  check_row(schema, row);
  std::string sql = "INSERT INTO " + quote_identifier(schema.name) + " (";
  std::string values;
  for (std::size_t i = 0; i < schema.columns.size(); ++i) {
    sql += (i ? ", " : "") + quote_identifier(schema.columns[i].name);
    values += i ? ", ?" : "?";
  }
  sql += ") VALUES (" + values + ")";

  Statement insert;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &insert.stmt, nullptr) != SQLITE_OK) fail_sqlite("preparing an insert");
  for (std::size_t i = 0; i < row.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    if (const auto* n = std::get_if<std::int64_t>(&row[i])) {
      rc = sqlite3_bind_int64(insert.stmt, index, *n);
    } else if (const auto* d = std::get_if<double>(&row[i])) {
      rc = is_null(real(*d)) ? sqlite3_bind_null(insert.stmt, index) : sqlite3_bind_double(insert.stmt, index, *d);
    } else if (const auto* s = std::get_if<std::string>(&row[i])) {
      rc = sqlite3_bind_text(insert.stmt, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(insert.stmt, index);
    }
    if (rc != SQLITE_OK) fail_sqlite("binding column " + schema.columns[i].name);
  }
  exec("BEGIN IMMEDIATE");
  if (sqlite3_step(insert.stmt) != SQLITE_DONE) {
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    fail("results database '{}': inserting a row into {} failed: {}", path_, schema.name, message);
  }
  exec("COMMIT");
}

}  // namespace eaq::report
