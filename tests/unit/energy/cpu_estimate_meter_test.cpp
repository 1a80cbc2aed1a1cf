// CpuEstimateMeter on a fake /proc: the TDP x utilisation model against hand-computed power.
#include "energy/cpu_estimate_meter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "energy/cpu_tdp_table.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"

namespace eaq::energy {
namespace {

namespace fs = std::filesystem;

TEST(ProcStat, BusyAndTotal) {
  const CpuTimes t = parse_proc_stat("cpu  100 5 50 800 40 3 2 10 0 0\ncpu0 1 2 3 4\n");
  EXPECT_EQ(t.total, 1010u);               // user..steal
  EXPECT_EQ(t.busy, 1010u - 800 - 40 - 10);  // minus idle, iowait, steal
  EXPECT_THROW(parse_proc_stat("intr 1 2 3\n"), Error);
  EXPECT_THROW(parse_proc_stat("cpu  1 2\n"), Error);
}

TEST(CpuTdpTable, LookupAndFallback) {
  auto epyc = find_cpu_tdp("AMD EPYC 7763 64-Core Processor");
  ASSERT_TRUE(epyc.has_value());
  EXPECT_EQ(epyc->tdp_w, 280);
  EXPECT_EQ(epyc->threads, 128);
  EXPECT_TRUE(find_cpu_tdp("Intel(R) Xeon(R) Platinum 8480+").has_value());
  EXPECT_FALSE(find_cpu_tdp("Intel(R) Xeon(R) Processor").has_value());
  const double median = median_tdp_per_thread_w();
  EXPECT_GT(median, 1.0);
  EXPECT_LT(median, 6.0);
}

class FakeProc {
 public:
  FakeProc() {
    char pattern[] = "/tmp/eaq_proc_XXXXXX";
    root_ = mkdtemp(pattern);
    std::ofstream cpuinfo(root_ + "/cpuinfo");
    for (int i = 0; i < 4; ++i) {
      cpuinfo << "processor\t: " << i << "\nmodel name\t: AMD EPYC 7763 64-Core Processor\n"
              << "physical id\t: 0\ncore id\t\t: " << i / 2 << "\n\n";
    }
    std::ofstream(root_ + "/meminfo") << "MemTotal:        8000000 kB\nMemFree: 1 kB\n";
    set_stat(0, 0);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void set_stat(unsigned long long busy, unsigned long long idle) {
    std::ofstream(root_ + "/stat") << "cpu  " << busy << " 0 0 " << idle << " 0 0 0 0 0 0\n";
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(CpuEstimateMeter, PowerModelFromTable) {
  FakeProc proc;
  CpuEstimateOptions options;
  options.proc_root = proc.root();
  const CpuPowerModel model = cpu_power_model(options);
  EXPECT_EQ(model.logical_cpus, 4);
  EXPECT_NEAR(model.tdp_w, 280.0 * 4 / 128, 1e-12);  // 4 of the chip's 128 threads
  EXPECT_NEAR(model.dram_gb, 8.192, 1e-12);
  EXPECT_NEAR(model.dram_w, 8.192 * 0.375, 1e-12);
  options.tdp_w = 65;
  EXPECT_EQ(cpu_power_model(options).tdp_w, 65);
}

TEST(CpuEstimateMeter, EnergyFollowsUtilisation) {
  FakeProc proc;
  CpuEstimateOptions options;
  options.proc_root = proc.root();
  options.sample_interval_s = 0.05;
  MeterSet set;
  set.add(std::make_unique<CpuEstimateMeter>(options), "fake /proc");
  EnergyWindow window(set, "half busy");
  proc.set_stat(50, 50);  // 50% utilisation from here on
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const WindowResult result = window.end();
  const double tdp_w = 280.0 * 4 / 128;
  const double expected_w = tdp_w * (0.2 + 0.8 * 0.5);
  const EnergyReading* cpu = result.find("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->source, Source::estimated);
  EXPECT_NEAR(cpu->mean_power_w, expected_w, 0.02 * expected_w);
  EXPECT_NEAR(result.find("dram")->mean_power_w, 8.192 * 0.375, 1e-6);
}

}  // namespace
}  // namespace eaq::energy
