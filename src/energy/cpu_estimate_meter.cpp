// CpuEstimateMeter: /proc/stat utilisation x TDP model, integrated on a sampling thread.
#include "energy/cpu_estimate_meter.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "energy/cpu_info.h"
#include "energy/cpu_tdp_table.h"

namespace eaq::energy {

CpuPowerModel cpu_power_model(const CpuEstimateOptions& options) {
  const CpuInfo cpu = read_cpu_info(options.proc_root);
  CpuPowerModel model;
  model.cpu_model = cpu.model;
  model.logical_cpus = cpu.logical_cpus;
  model.idle_fraction = options.idle_fraction;
  if (options.tdp_w > 0) {
    model.tdp_w = options.tdp_w;
    model.tdp_basis = "given by the user";
  } else if (auto entry = find_cpu_tdp(cpu.model)) {
    // A VM sees a share of a chip; two sockets see two chips.
    model.tdp_w = entry->tdp_w * cpu.logical_cpus / entry->threads;
    model.tdp_basis = fmt::format("{} W TDP of '{}' ({}) x {}/{} threads visible", entry->tdp_w,
                                  entry->model, entry->source, cpu.logical_cpus, entry->threads);
  } else {
    const double per_thread_w = median_tdp_per_thread_w();
    model.tdp_w = per_thread_w * cpu.logical_cpus;
    model.tdp_basis = fmt::format("CPU model not in eaq's TDP table: {:.2f} W per thread (the "
                                  "table's median) x {} threads; set --cpu-tdp-w for a better figure",
                                  per_thread_w, cpu.logical_cpus);
  }
  model.dram_gb = static_cast<double>(cpu.memory_bytes) / 1e9;
  model.dram_w = model.dram_gb * options.dram_w_per_gb;
  return model;
}

CpuTimes parse_proc_stat(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    std::uint64_t values[8] = {};
    int count = 0;
    while (count < 8 && fields >> values[count]) ++count;
    if (count < 4) break;
    CpuTimes times;
    const std::uint64_t idle = values[3] + values[4];
    for (int i = 0; i < count; ++i) times.total += values[i];
    times.busy = times.total - idle - values[7];
    return times;
  }
  fail("/proc/stat has no valid aggregate 'cpu' line: CPU utilisation cannot be estimated");
}

CpuEstimateMeter::CpuEstimateMeter(CpuEstimateOptions options)
    : options_(std::move(options)), model_(cpu_power_model(options_)) {
  if (!(options_.idle_fraction >= 0 && options_.idle_fraction <= 1)) {
    fail("the CPU idle power fraction must be within [0, 1], got {}", options_.idle_fraction);
  }
  if (!(options_.sample_interval_s > 0)) fail("the CPU sampling interval must be positive");
  domains_ = {{"cpu", Source::estimated, true}, {"dram", Source::estimated, true}};
  last_times_ = read_times();
  last_time_s_ = now_s();
  cpu_power_w_ = model_.tdp_w * model_.idle_fraction;
  thread_ = std::thread([this] { run(); });
}

CpuEstimateMeter::~CpuEstimateMeter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

CpuTimes CpuEstimateMeter::read_times() const {
  const std::string path = options_.proc_root + "/stat";
  std::ifstream in(path);
  if (!in) fail("cannot read {}: CPU utilisation cannot be estimated", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_proc_stat(text.str());
}

void CpuEstimateMeter::sample_locked() {
  const double now = now_s();
  const CpuTimes times = read_times();
  const double dt = now - last_time_s_;
  if (dt <= 0) return;
  const std::uint64_t total = times.total - last_times_.total;
  const std::uint64_t busy = times.busy - last_times_.busy;
  if (total > 0) {
    const double utilisation = std::min(1.0, static_cast<double>(busy) / static_cast<double>(total));
    cpu_power_w_ = model_.tdp_w * (model_.idle_fraction + (1.0 - model_.idle_fraction) * utilisation);
    last_times_ = times;
  }
  // No tick elapsed (sub-10 ms interval): hold the previous power.
  cpu_energy_j_ += cpu_power_w_ * dt;
  last_time_s_ = now;
}

PendingEnergies CpuEstimateMeter::energy_at(double time_s) {
  std::lock_guard lock(mutex_);
  sample_locked();
  std::vector<DomainEnergy> energies(2);
  // The sample was taken a few microseconds after time_s: take that sliver off.
  energies[0].energy_j = cpu_energy_j_ - cpu_power_w_ * std::max(0.0, last_time_s_ - time_s);
  // DRAM is modelled as constant power: its energy is a function of time only.
  energies[1].energy_j = model_.dram_w * time_s;
  return ready_energies(std::move(energies));
}

std::vector<double> CpuEstimateMeter::power_w() {
  std::lock_guard lock(mutex_);
  return {cpu_power_w_, model_.dram_w};
}

void CpuEstimateMeter::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::duration<double>(options_.sample_interval_s), [&] { return stop_; });
    if (stop_) break;
    try {
      sample_locked();
    } catch (const Error&) {
      // /proc/stat vanished mid-run (a test's fake tree); energy_at() reports it.
    }
  }
}

}  // namespace eaq::energy
