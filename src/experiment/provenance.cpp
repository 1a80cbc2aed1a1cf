// Provenance: machine facts, timestamps and the cached model hash.
#include "experiment/provenance.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "energy/cpu_info.h"
#include "eval/data_pull.h"
#include "experiment/cache_dir.h"

#ifndef EAQ_GIT_SHA
#define EAQ_GIT_SHA "unknown"
#endif
#ifndef EAQ_VERSION
#define EAQ_VERSION "unknown"
#endif

namespace eaq::experiment {

namespace fs = std::filesystem;

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::string utc_timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

Provenance machine_provenance(const energy::MeterSet& meters) {
  Provenance p;
  p.git_sha = EAQ_GIT_SHA;
  p.eaq_version = EAQ_VERSION;
  p.hostname = host_name();
  const auto cpu = energy::read_cpu_info();
  p.cpu_model = cpu.model;
  p.logical_cpus = cpu.logical_cpus;
  if (auto* nvml = meters.nvml()) {
    p.gpu_driver = nvml->driver_version();
    const auto gpus = nvml->gpu_info();
    for (const auto& gpu : gpus) p.gpu_name += (p.gpu_name.empty() ? "" : ", ") + gpu.name;
    if (!gpus.empty()) p.gpu_power_limit_w = gpus.front().power_limit_w;
  }
  p.started_at = utc_timestamp();
  return p;
}

namespace {

std::string hash_directory(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::string listing;
  for (const auto& file : files) listing += eval::sha256_file(file) + "  " + fs::relative(file, dir).string() + "\n";
  return eval::sha256_hex(listing);
}

// The newest mtime and the total size of a file or a directory's files: the cache key.
std::pair<std::int64_t, std::uintmax_t> stamp(const fs::path& path) {
  auto mtime = [](const fs::path& p) {
    return static_cast<std::int64_t>(fs::last_write_time(p).time_since_epoch().count());
  };
  if (!fs::is_directory(path)) return {mtime(path), fs::file_size(path)};
  std::int64_t newest = mtime(path);
  std::uintmax_t size = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    if (!entry.is_regular_file()) continue;
    newest = std::max(newest, mtime(entry.path()));
    size += entry.file_size();
  }
  return {newest, size};
}

}  // namespace

std::string model_sha256(const std::string& path, const std::string& configured_cache_dir) {
  const fs::path absolute = fs::absolute(path).lexically_normal();
  const auto [mtime, size] = stamp(absolute);
  const auto dir = cache_dir(configured_cache_dir);
  const fs::path cache_file = dir.empty() ? fs::path() : dir / "model-sha256.json";
  nlohmann::json cache = nlohmann::json::object();
  if (!cache_file.empty()) {
    std::ifstream in(cache_file);
    if (in) {
      try {
        cache = nlohmann::json::parse(in);
        if (!cache.is_object()) cache = nlohmann::json::object();
      } catch (const std::exception&) {
        cache = nlohmann::json::object();  // a damaged cache is rebuilt, never trusted
      }
    }
    const auto it = cache.find(absolute.string());
    if (it != cache.end() && it->is_object() && it->value("mtime", std::int64_t{-1}) == mtime &&
        it->value("size", std::uintmax_t{0}) == size && it->contains("sha256")) {
      return it->at("sha256").get<std::string>();
    }
  }
  const std::string sha = fs::is_directory(absolute) ? hash_directory(absolute) : eval::sha256_file(absolute);
  if (!cache_file.empty()) {
    cache[absolute.string()] = {{"mtime", mtime}, {"size", size}, {"sha256", sha}, {"hashed_at", utc_timestamp()}};
    if (!write_file_atomically(cache_file, cache.dump(2) + "\n")) {
      spdlog::debug("could not write the model hash cache {}", cache_file.string());
    }
  }
  return sha;
}

}  // namespace eaq::experiment
