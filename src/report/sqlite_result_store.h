// SqliteResultStore: appends result rows to a SQLite database, one table per Schema, each row in its
// own transaction, committed (and synced: rollback journal, synchronous=FULL) before insert()
// returns, so a run killed at any moment (SIGINT, SIGKILL, power loss) leaves a valid file holding
// every row already measured. Tables are created when missing; columns a newer eaq added are
// appended to an older file's table (ALTER TABLE ADD COLUMN), so one file collects many runs.
// The schema is documented in docs/results_schema.md.
#pragma once

#include <string>

#include "report/result_schema.h"

struct sqlite3;

namespace eaq::report {

class SqliteResultStore {
 public:
  // Opens or creates `path`. Throws eaq::Error when it cannot (the message says why and what to do).
  explicit SqliteResultStore(const std::string& path);
  ~SqliteResultStore();
  SqliteResultStore(const SqliteResultStore&) = delete;
  SqliteResultStore& operator=(const SqliteResultStore&) = delete;

  const std::string& path() const { return path_; }

  // CREATE TABLE IF NOT EXISTS, then adds any of the schema's columns the table lacks.
  void ensure_table(const Schema& schema);
  // Inserts one row and commits it. Waits up to 10 s for a reader's lock.
  void insert(const Schema& schema, const Row& row);

 private:
  void exec(const std::string& sql);
  [[noreturn]] void fail_sqlite(const std::string& what) const;

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace eaq::report
