// RaplMeter: powercap discovery, wraparound-safe accumulation and permission messages.
#include "energy/rapl_meter.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/error.h"

namespace eaq::energy {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_line(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  return line;
}

// The zone's raw counter in microjoules. Throws with how to get access when the file exists but
// cannot be read (root-only since Linux 5.10 because of CVE-2020-8694 "Platypus").
double read_energy_uj(const std::string& directory) {
  const fs::path path = fs::path(directory) / "energy_uj";
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    const int error = errno;
    if (error == EACCES || error == EPERM) {
      fail("cannot read {}: permission denied. Linux lets only root read RAPL energy since 5.10 "
           "(CVE-2020-8694). Grant read access with `sudo chmod a+r {}/*/energy_uj` (until reboot) or "
           "a udev rule, or run eaq as root.", path.string(), fs::path(directory).parent_path().string());
    }
    fail("cannot read {}: {}", path.string(), std::strerror(error));
  }
  unsigned long long value = 0;
  const int parsed = std::fscanf(file, "%llu", &value);
  std::fclose(file);
  if (parsed != 1) fail("{} does not hold a number: the RAPL zone is unusable", path.string());
  return static_cast<double>(value);
}

// "intel-rapl:1:0" -> {1, 0}; "intel-rapl:1" -> {1}.
std::vector<int> zone_indices(const std::string& entry) {
  std::vector<int> indices;
  std::size_t pos = entry.find(':');
  while (pos != std::string::npos) {
    const std::size_t next = entry.find(':', pos + 1);
    indices.push_back(std::atoi(entry.substr(pos + 1, next - pos - 1).c_str()));
    pos = next;
  }
  return indices;
}

DomainInfo domain_for(const std::string& zone_name, int package) {
  if (zone_name.rfind("package-", 0) == 0) {
    return {fmt::format("cpu-package:{}", std::atoi(zone_name.c_str() + 8)), Source::counter, true};
  }
  if (zone_name == "dram") return {fmt::format("dram:{}", package), Source::counter, true};
  if (zone_name == "core") return {fmt::format("cpu-core:{}", package), Source::counter, false};
  if (zone_name == "uncore") return {fmt::format("cpu-uncore:{}", package), Source::counter, false};
  // psys covers the whole platform, packages included: reported, never added to totals.
  return {fmt::format("rapl-{}:{}", zone_name, package), Source::counter, false};
}

}  // namespace

std::string RaplMeter::default_root() {
  const char* env = std::getenv("EAQ_POWERCAP_ROOT");
  return (env != nullptr && *env != '\0') ? env : "/sys/class/powercap";
}

RaplMeter::RaplMeter(RaplOptions options) : poll_interval_s_(options.poll_interval_s) {
  const std::string root = options.powercap_root.empty() ? default_root() : options.powercap_root;
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    fail("{} does not exist: this kernel or VM exposes no RAPL (powercap) counters", root);
  }
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    // intel-rapl-mmio duplicates the package zone through another interface: counting it too
    // would double the CPU energy.
    if (name.find("rapl:") == std::string::npos || name.find("mmio") != std::string::npos) continue;
    entries.push_back(name);
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& entry : entries) {
    const std::string directory = (fs::path(root) / entry).string();
    const auto zone_name = read_line(fs::path(directory) / "name");
    if (!zone_name) {
      notes_.push_back(fmt::format("{}: no 'name' file, zone skipped", directory));
      continue;
    }
    if (!fs::exists(fs::path(directory) / "energy_uj")) {
      notes_.push_back(fmt::format("{} ({}): no energy_uj, zone skipped", directory, *zone_name));
      continue;
    }
    RaplZone zone;
    zone.directory = directory;
    zone.zone_name = *zone_name;
    const auto indices = zone_indices(entry);
    zone.domain = domain_for(*zone_name, indices.empty() ? 0 : indices.front());
    if (auto range = read_line(fs::path(directory) / "max_energy_range_uj")) {
      zone.max_energy_range_uj = std::atof(range->c_str());
    }
    if (zone.max_energy_range_uj <= 0) {
      notes_.push_back(fmt::format("{}: no max_energy_range_uj; a counter wrap would be missed", directory));
    }
    zones_.push_back(std::move(zone));
  }
  if (zones_.empty()) fail("no readable RAPL zone under {}", root);
  const double now = now_s();
  for (const auto& zone : zones_) {
    domains_.push_back(zone.domain);
    last_raw_uj_.push_back(read_energy_uj(zone.directory));  // throws with the access advice
    total_j_.push_back(0.0);
    polled_total_j_.push_back(0.0);
    power_w_.push_back(0.0);
  }
  last_time_s_ = now;
  thread_ = std::thread([this] { poll(); });
}

RaplMeter::~RaplMeter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::vector<DomainEnergy> RaplMeter::update_locked(double now) {
  std::vector<DomainEnergy> energies(zones_.size());
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    const double raw_uj = read_energy_uj(zones_[i].directory);
    double delta_uj = raw_uj - last_raw_uj_[i];
    // The counter wrapped: it ran up to max_energy_range_uj and restarted from 0.
    if (delta_uj < 0) delta_uj += zones_[i].max_energy_range_uj;
    if (delta_uj < 0) delta_uj = 0;  // no range known: lose this interval rather than go negative
    last_raw_uj_[i] = raw_uj;
    total_j_[i] += delta_uj * 1e-6;
    energies[i].energy_j = total_j_[i];
  }
  return energies;
}

PendingEnergies RaplMeter::energy_at(double time_s) {
  std::lock_guard lock(mutex_);
  return ready_energies(update_locked(now_s()));
}

std::vector<double> RaplMeter::power_w() {
  std::lock_guard lock(mutex_);
  return power_w_;
}

void RaplMeter::poll() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::duration<double>(poll_interval_s_), [&] { return stop_; });
    if (stop_) break;
    try {
      // Power from the totals between two polls (energy_at calls in between only add detail).
      const double now = now_s();
      update_locked(now);
      for (std::size_t i = 0; i < total_j_.size(); ++i) {
        power_w_[i] = (total_j_[i] - polled_total_j_[i]) / (now - last_time_s_);
      }
      polled_total_j_ = total_j_;
      last_time_s_ = now;
    } catch (const Error&) {
      // A zone became unreadable mid-run; the next energy_at() reports it to the caller.
    }
  }
}

}  // namespace eaq::energy
