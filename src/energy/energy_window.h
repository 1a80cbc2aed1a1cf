// Energy windows: energy per domain between two moments, with the idle baseline subtracted.
//
//   auto meters = MeterSet::detect({});
//   IdleBaseline idle = measure_idle_baseline(meters, 5.0);   // once per run
//   EnergyWindows windows(meters, [] { cudaDeviceSynchronize(); }, idle);
//   windows.begin("generate");
//     windows.begin("prefill"); ...; windows.end("prefill");   // nestable, LIFO
//   WindowResult r = windows.end("generate");
//
// Each EnergyReading has gross energy (what the meter saw), idle energy (idle power x duration)
// and net energy (gross - idle: what the work itself cost), its source, and for NVML counter
// domains the sampled-power figure over the same window to show how far the two agree.
// begin() never waits for a meter; end() waits for the meters to resolve the two moments (up to
// one counter update period, 0.1 s for NVML, after the work has finished).
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "energy/meter.h"
#include "energy/meter_set.h"

namespace eaq::energy {

// Waits until all work submitted to the device has finished (e.g. cudaDeviceSynchronize), so a
// window's moments bound the work exactly. Empty for CPU work.
using DeviceSync = std::function<void()>;

struct IdlePower {
  std::string domain;
  Source source = Source::counter;
  double power_w = 0;
};

// Power per domain while nothing runs, measured once per run.
struct IdleBaseline {
  double duration_s = 0;  // 0: no baseline (idle figures are 0 and net = gross)
  std::vector<IdlePower> powers;
  const IdlePower* find(std::string_view domain) const;
};

// Sleeps duration_s while the meters run and returns the mean power per domain.
IdleBaseline measure_idle_baseline(MeterSet& meters, double duration_s);

struct EnergyReading {
  std::string domain;
  Source source = Source::counter;
  bool in_total = true;
  double duration_s = 0;
  double energy_j = 0;       // gross
  double idle_power_w = 0;
  double idle_energy_j = 0;  // idle_power_w x duration_s
  double net_energy_j = 0;   // energy_j - idle_energy_j (may be slightly negative for idle work)
  double mean_power_w = 0;   // energy_j / duration_s
  // Counter domains only: the integral of the power samples over the same window (NaN if none).
  double sampled_energy_j = std::numeric_limits<double>::quiet_NaN();
};

struct WindowResult {
  std::string name;  // full path of nested windows: "generate/prefill"
  int depth = 0;
  double begin_s = 0;
  double end_s = 0;
  double duration_s = 0;
  int repetitions = 1;          // measure_repeated: runs of the workload inside the window
  double counter_updates = 0;   // duration / coarsest counter update period (0: continuous)
  bool has_idle_baseline = false;
  std::vector<EnergyReading> readings;
  std::vector<std::string> warnings;

  double total_energy_j() const;      // over in_total domains
  double total_net_energy_j() const;
  double total_idle_energy_j() const;
  const EnergyReading* find(std::string_view domain) const;
};

// One window: begin in the constructor, end() once.
class EnergyWindow {
 public:
  EnergyWindow(MeterSet& meters, std::string name, const DeviceSync& sync = {},
               const IdleBaseline& idle = {}, int depth = 0);
  WindowResult end();

 private:
  MeterSet& meters_;
  std::string name_;
  DeviceSync sync_;
  IdleBaseline idle_;
  int depth_;
  double begin_s_ = 0;
  std::vector<PendingEnergies> begin_energies_;
  bool ended_ = false;
};

// Named, nestable windows over one MeterSet.
class EnergyWindows {
 public:
  explicit EnergyWindows(MeterSet& meters, DeviceSync sync = {}, IdleBaseline idle = {});

  void set_idle_baseline(IdleBaseline idle) { idle_ = std::move(idle); }
  const IdleBaseline& idle_baseline() const { return idle_; }
  MeterSet& meters() { return meters_; }
  const DeviceSync& sync() const { return sync_; }

  void begin(std::string name);
  // Ends the innermost window, which must be `name` (throws eaq::Error otherwise).
  WindowResult end(std::string_view name);
  std::size_t depth() const { return open_.size(); }
  // Every ended window, in the order they ended.
  const std::vector<WindowResult>& results() const { return results_; }

 private:
  MeterSet& meters_;
  DeviceSync sync_;
  IdleBaseline idle_;
  std::vector<std::pair<std::string, std::unique_ptr<EnergyWindow>>> open_;
  std::vector<WindowResult> results_;
};

}  // namespace eaq::energy
