// Provenance of a bench run, written into every result row: what code (git sha, eaq version), on
// what hardware (CPU model, GPU name, driver, power limit), on what model (path + sha256), when.
// The model's sha256 is cached by absolute path, size and mtime (hashing a large model each run
// is slow); a changed file is hashed again.
#pragma once

#include <optional>
#include <string>

#include "energy/meter_set.h"

namespace eaq::experiment {

struct Provenance {
  std::string git_sha;
  std::string eaq_version;
  std::string hostname;
  std::string cpu_model;
  int logical_cpus = 0;
  std::string gpu_name;  // empty when no GPU is visible through NVML
  std::string gpu_driver;
  std::optional<double> gpu_power_limit_w;
  std::string model_path;  // absolute
  std::string model_sha256;
  std::string started_at;  // UTC, ISO 8601
};

// Fills everything except the model fields; GPU fields come from the meters' NVML when present.
Provenance machine_provenance(const energy::MeterSet& meters);

std::string host_name();
std::string utc_timestamp();  // now, "2026-11-25T05:12:03Z"

// sha256 of a model file (or, for a directory, of its files' "sha256  name" lines in name order),
// cached in cache_dir()/model-sha256.json.
std::string model_sha256(const std::string& path, const std::string& configured_cache_dir = "");

}  // namespace eaq::experiment
