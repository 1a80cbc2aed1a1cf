// `eaq data pull`: downloads a task's canonical dataset files from their public homes into a
// cache dir laid out as --data-dir expects (<cache>/<task>/<file>), checks sha256, and resumes an
// interrupted download (HTTP Range on <file>.part). The transfer is done by the `curl` program
// (spawned with an argv, no shell): libcurl is not among eaq's dependencies, the curl tool is on
// every Debian machine (scripts/setup.sh installs it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eaq::eval {

struct DatasetFile {
  std::string path;     // relative to the cache dir, e.g. "gsm8k/test.jsonl"
  std::string url;      // the canonical public home
  std::string sha256;   // lower-case hex; empty when not pinned (pull needs --no-verify)
  std::string note;     // why it is (not) pinned, or what to do with it (archives)
  bool archive = false; // an archive eaq does not unpack (the note says how)
};

struct DatasetSource {
  std::string task;  // what `eaq data pull` takes
  std::string description;
  std::vector<DatasetFile> files;
};

// Every dataset eaq knows how to pull.
const std::vector<DatasetSource>& dataset_sources();
// The source for `task`; eaq::Error listing the known ones when there is none.
const DatasetSource& find_dataset_source(std::string_view task);

struct PullOptions {
  std::filesystem::path cache_dir;
  // Replaces each URL with <url_base>/<path> (a mirror, or a local server in tests).
  std::string url_base;
  // Accept files that have no pinned sha256 (their computed sha256 is still recorded).
  bool no_verify = false;
  // Download again even when the file is present.
  bool force = false;
  std::string curl = "curl";  // the program (PATH is searched)
  // Attempts per file; each one resumes from what the previous left in the .part file.
  int max_attempts = 3;
  double connect_timeout_s = 30;
};

struct PulledFile {
  std::filesystem::path path;
  std::string sha256;
  std::uint64_t bytes = 0;
  bool verified = false;         // matched a pinned sha256
  bool already_present = false;  // nothing downloaded
  std::uint64_t resumed_from_bytes = 0;  // > 0 when a .part was continued
};

// Pulls every file of `source`; throws eaq::Error (what failed, which URL/file, what to do) on
// the first failure. A sha256 mismatch removes the download (nothing is left as if valid).
// `on_file` is called after each file. Writes <cache>/<task>/SHA256SUMS for what it pulled.
std::vector<PulledFile> pull_dataset(const DatasetSource& source, const PullOptions& options,
                                     const std::function<void(const PulledFile&)>& on_file = {});

// SHA-256 (FIPS 180-4) of a file, lower-case hex; eaq::Error when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

}  // namespace eaq::eval
