// RaplMeter: CPU package, core and DRAM energy from the RAPL counters that Linux exposes under
// /sys/class/powercap (driver intel-rapl; AMD Zen CPUs report through the same driver). Counters
// wrap at max_energy_range_uj; a polling thread reads them often enough to see every wrap.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "energy/meter.h"

namespace eaq::energy {

struct RaplOptions {
  std::string powercap_root;     // empty: $EAQ_POWERCAP_ROOT or /sys/class/powercap
  double poll_interval_s = 0.1;  // for power readings and wrap detection
};

struct RaplZone {
  std::string directory;   // e.g. /sys/class/powercap/intel-rapl:0:2
  std::string zone_name;   // the zone's own name file: package-0, core, uncore, dram, psys
  DomainInfo domain;       // cpu-package:0, cpu-core:0, dram:0, ...
  double max_energy_range_uj = 0;
};

class RaplMeter final : public Meter {
 public:
  // Throws eaq::Error when there is no powercap tree, no RAPL zone, or a zone cannot be read
  // (the message says how to grant read access).
  explicit RaplMeter(RaplOptions options = {});
  ~RaplMeter() override;

  std::string name() const override { return "rapl"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  double update_period_s() const override { return 0.001; }  // RAPL updates about every ms
  PendingEnergies energy_at(double time_s) override;
  std::vector<double> power_w() override;

  const std::vector<RaplZone>& zones() const { return zones_; }
  // Zones that were skipped and why (missing files, unknown layout).
  const std::vector<std::string>& notes() const { return notes_; }

  static std::string default_root();

 private:
  std::vector<DomainEnergy> update_locked(double now);
  void poll();

  std::vector<RaplZone> zones_;
  std::vector<DomainInfo> domains_;
  std::vector<std::string> notes_;
  double poll_interval_s_;

  std::mutex mutex_;
  std::vector<double> last_raw_uj_;
  std::vector<double> total_j_;
  std::vector<double> polled_total_j_;  // totals at the previous poll, for power
  std::vector<double> power_w_;
  double last_time_s_ = 0;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eaq::energy
