// CpuEstimateMeter: the fallback when RAPL is unavailable (VMs, cloud GPUs hosts). CPU power is
// modelled as TDP x (idle floor + (1 - idle floor) x utilisation), utilisation from /proc/stat,
// and DRAM as watts per GB of installed memory. Every figure is labelled `estimated`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "energy/meter.h"

namespace eaq::energy {

struct CpuEstimateOptions {
  // TDP of the CPUs this OS sees, in watts; 0: from the TDP table by model name (scaled by the
  // visible share of the chip's threads), else the table's median watts per thread x threads.
  double tdp_w = 0;
  // Share of TDP drawn at zero utilisation. An assumption (server CPUs idle at a fraction of
  // TDP), not a measurement: it shifts gross energy, not the idle-subtracted net energy's shape.
  double idle_fraction = 0.2;
  // 3 W per 8 GB, the figure CodeCarbon uses for DRAM (0.375 W/GB).
  double dram_w_per_gb = 0.375;
  double sample_interval_s = 0.1;
  std::string proc_root = "/proc";
};

// The model's parameters, for reports.
struct CpuPowerModel {
  std::string cpu_model;
  int logical_cpus = 0;
  double tdp_w = 0;         // for the CPUs visible here
  std::string tdp_basis;    // where tdp_w came from
  double idle_fraction = 0;
  double dram_gb = 0;
  double dram_w = 0;
};

CpuPowerModel cpu_power_model(const CpuEstimateOptions& options);

// Busy and total jiffies from the aggregate "cpu" line of /proc/stat. busy excludes idle and
// iowait; total includes steal. Throws eaq::Error when the text has no valid cpu line.
struct CpuTimes {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};
CpuTimes parse_proc_stat(std::string_view text);

class CpuEstimateMeter final : public Meter {
 public:
  explicit CpuEstimateMeter(CpuEstimateOptions options = {});
  ~CpuEstimateMeter() override;

  std::string name() const override { return "cpu-estimate"; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  double update_period_s() const override { return 0.0; }
  PendingEnergies energy_at(double time_s) override;
  std::vector<double> power_w() override;

  const CpuPowerModel& model() const { return model_; }

 private:
  CpuTimes read_times() const;
  void sample_locked();  // integrates from the previous sample to now
  void run();

  CpuEstimateOptions options_;
  CpuPowerModel model_;
  std::vector<DomainInfo> domains_;

  std::mutex mutex_;
  CpuTimes last_times_;
  double last_time_s_ = 0;
  double cpu_energy_j_ = 0;
  double cpu_power_w_ = 0;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eaq::energy
