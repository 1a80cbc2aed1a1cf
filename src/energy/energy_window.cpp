// Energy windows: pairing meter readings, idle subtraction, granularity warnings.
#include "energy/energy_window.h"

#include <cmath>
#include <thread>

#include "core/error.h"

namespace eaq::energy {

const IdlePower* IdleBaseline::find(std::string_view domain) const {
  for (const auto& power : powers) {
    if (power.domain == domain) return &power;
  }
  return nullptr;
}

IdleBaseline measure_idle_baseline(MeterSet& meters, double duration_s) {
  IdleBaseline baseline;
  if (!(duration_s > 0)) return baseline;
  EnergyWindow window(meters, "idle");
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
  const WindowResult result = window.end();
  baseline.duration_s = result.duration_s;
  for (const auto& reading : result.readings) {
    baseline.powers.push_back({reading.domain, reading.source, reading.mean_power_w});
  }
  return baseline;
}

double WindowResult::total_energy_j() const {
  double total = 0;
  for (const auto& reading : readings) total += reading.in_total ? reading.energy_j : 0.0;
  return total;
}

double WindowResult::total_net_energy_j() const {
  double total = 0;
  for (const auto& reading : readings) total += reading.in_total ? reading.net_energy_j : 0.0;
  return total;
}

double WindowResult::total_idle_energy_j() const {
  double total = 0;
  for (const auto& reading : readings) total += reading.in_total ? reading.idle_energy_j : 0.0;
  return total;
}

const EnergyReading* WindowResult::find(std::string_view domain) const {
  for (const auto& reading : readings) {
    if (reading.domain == domain) return &reading;
  }
  return nullptr;
}

EnergyWindow::EnergyWindow(MeterSet& meters, std::string name, const DeviceSync& sync,
                           const IdleBaseline& idle, int depth)
    : meters_(meters), name_(std::move(name)), sync_(sync), idle_(idle), depth_(depth) {
  // Work queued before the window must not be counted in it.
  if (sync_) sync_();
  begin_s_ = now_s();
  for (const auto& meter : meters_.meters()) begin_energies_.push_back(meter->energy_at(begin_s_));
}

WindowResult EnergyWindow::end() {
  if (ended_) throw InternalError(fmt::format("energy window '{}' ended twice", name_));
  ended_ = true;
  if (sync_) sync_();
  const double end_s = now_s();
  std::vector<PendingEnergies> end_energies;
  for (const auto& meter : meters_.meters()) end_energies.push_back(meter->energy_at(end_s));

  WindowResult result;
  result.name = name_;
  result.depth = depth_;
  result.begin_s = begin_s_;
  result.end_s = end_s;
  result.duration_s = end_s - begin_s_;
  result.has_idle_baseline = idle_.duration_s > 0;
  for (std::size_t m = 0; m < meters_.meters().size(); ++m) {
    const Meter& meter = *meters_.meters()[m];
    const auto begin = begin_energies_[m].get();
    const auto end = end_energies[m].get();
    const auto& domains = meter.domains();
    for (std::size_t d = 0; d < domains.size(); ++d) {
      EnergyReading reading;
      reading.domain = domains[d].domain;
      reading.source = domains[d].source;
      reading.in_total = domains[d].in_total;
      reading.duration_s = result.duration_s;
      reading.energy_j = end[d].energy_j - begin[d].energy_j;
      if (std::isfinite(begin[d].sampled_energy_j) && std::isfinite(end[d].sampled_energy_j)) {
        reading.sampled_energy_j = end[d].sampled_energy_j - begin[d].sampled_energy_j;
      }
      if (const IdlePower* idle = idle_.find(reading.domain)) reading.idle_power_w = idle->power_w;
      reading.idle_energy_j = reading.idle_power_w * reading.duration_s;
      reading.net_energy_j = reading.energy_j - reading.idle_energy_j;
      reading.mean_power_w = result.duration_s > 0 ? reading.energy_j / result.duration_s : 0.0;
      result.readings.push_back(std::move(reading));
    }
    const double period_s = meter.update_period_s();
    if (period_s > 0 && result.duration_s < period_s) {
      result.warnings.push_back(fmt::format(
          "window '{}' lasted {:.1f} ms, less than the {} counter's {:.0f} ms update period: its "
          "figure rests on the end corrections; repeat the work until it spans >= 20 updates "
          "(energy::measure_repeated)", name_, result.duration_s * 1000, meter.name(), period_s * 1000));
    }
  }
  const double period_s = meters_.update_period_s();
  result.counter_updates = period_s > 0 ? result.duration_s / period_s : 0.0;
  if (meters_.empty()) result.warnings.push_back("no energy meter is available: no energy was measured");
  return result;
}

EnergyWindows::EnergyWindows(MeterSet& meters, DeviceSync sync, IdleBaseline idle)
    : meters_(meters), sync_(std::move(sync)), idle_(std::move(idle)) {}

void EnergyWindows::begin(std::string name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    fail("energy window name '{}' must be non-empty and contain no '/'", name);
  }
  std::string path = open_.empty() ? name : open_.back().first + "/" + name;
  auto window = std::make_unique<EnergyWindow>(meters_, path, sync_, idle_, static_cast<int>(open_.size()));
  open_.emplace_back(std::move(name), std::move(window));
}

WindowResult EnergyWindows::end(std::string_view name) {
  if (open_.empty()) fail("energy window '{}' ended but no window is open", name);
  if (open_.back().first != name) {
    fail("energy window '{}' ended while '{}' is the innermost open window: windows nest, end the "
         "inner one first", name, open_.back().first);
  }
  WindowResult result = open_.back().second->end();
  open_.pop_back();
  results_.push_back(result);
  return result;
}

}  // namespace eaq::energy
