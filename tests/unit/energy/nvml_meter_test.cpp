// NvmlMeter through a test-double libnvidia-ml (tests/fakes/fake_nvml.c) loaded by the same
// dlopen path as the real one: counter end correction, sampled fallback, error codes, windows,
// idle baseline, repetition and warm-up helpers.
#include "energy/nvml_meter.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"
#include "energy/repeated_measurement.h"

namespace eaq::energy {
namespace {

class FakeNvml : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"FAKE_NVML_INIT_ERROR", "FAKE_NVML_GPUS", "FAKE_NVML_NAME", "FAKE_NVML_COUNTER",
                             "FAKE_NVML_POWER_W", "FAKE_NVML_POWER_ERROR", "FAKE_NVML_ENERGY_ERROR_AFTER",
                             "FAKE_NVML_UPDATE_MS", "FAKE_NVML_COUNTER_COST_US"}) {
      unsetenv(name);
    }
    // Holding our own handle keeps the fake loaded, so its controls act on the instance eaq uses.
    handle_ = dlopen(EAQ_FAKE_NVML_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    set_power_ = reinterpret_cast<double (*)(unsigned, double)>(dlsym(handle_, "fake_nvml_set_power_w"));
    exact_energy_ = reinterpret_cast<double (*)(unsigned, double)>(dlsym(handle_, "fake_nvml_exact_energy_j"));
    ASSERT_NE(set_power_, nullptr);
    ASSERT_NE(exact_energy_, nullptr);
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  NvmlMeterOptions options(NvmlMode mode = NvmlMode::automatic) {
    NvmlMeterOptions o;
    o.library_path = EAQ_FAKE_NVML_PATH;
    o.mode = mode;
    return o;
  }

  MeterSet meter_set(NvmlMode mode = NvmlMode::automatic) {
    MeterSet set;
    set.add(std::make_unique<NvmlMeter>(options(mode)), "fake NVML");
    return set;
  }

  // A load step inside a window: 300 W for 0.35 s (begin and end at an arbitrary counter phase).
  WindowResult run_step_window(MeterSet& set, double* exact_j) {
    set_power_(0, 50);
    // Start at a different phase of the 100 ms counter update every time.
    std::this_thread::sleep_for(std::chrono::milliseconds(130 + 37 * trial_++));
    EnergyWindow window(set, "step");
    set_power_(0, 300);
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    set_power_(0, 50);
    WindowResult result = window.end();
    *exact_j = exact_energy_(0, result.end_s) - exact_energy_(0, result.begin_s);
    return result;
  }

  int trial_ = 0;
  void* handle_ = nullptr;
  double (*set_power_)(unsigned, double) = nullptr;
  double (*exact_energy_)(unsigned, double) = nullptr;
};

TEST_F(FakeNvml, GpuInfoAndDomains) {
  setenv("FAKE_NVML_GPUS", "2", 1);
  setenv("FAKE_NVML_NAME", "NVIDIA H100 80GB HBM3 (fake)", 1);
  NvmlMeter meter(options());
  ASSERT_EQ(meter.domains().size(), 2u);
  EXPECT_EQ(meter.domains()[1].domain, "gpu:1");
  EXPECT_EQ(meter.domains()[0].source, Source::counter);
  EXPECT_EQ(meter.driver_version(), "999.99-fake");
  EXPECT_DOUBLE_EQ(meter.update_period_s(), 0.1);
  const auto gpus = meter.gpu_info();
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].name, "NVIDIA H100 80GB HBM3 (fake)");
  EXPECT_TRUE(gpus[0].energy_counter);
  EXPECT_DOUBLE_EQ(*gpus[0].power_limit_w, 700);
  EXPECT_EQ(*gpus[0].temperature_c, 41u);
  EXPECT_EQ(*gpus[0].memory_total_bytes, 85899345920ULL);
}

// The counter changes every 100 ms; a plain difference would be off by up to 100 ms x 250 W =
// 25 J of 105 J. With the end correction the window matches the exact integral closely.
TEST_F(FakeNvml, CounterWindowIsCorrectedAtBothEnds) {
  MeterSet set = meter_set();
  for (int trial = 0; trial < 3; ++trial) {
    double exact_j = 0;
    const WindowResult result = run_step_window(set, &exact_j);
    const EnergyReading& gpu = result.readings.at(0);
    EXPECT_EQ(gpu.source, Source::counter);
    EXPECT_GT(exact_j, 100.0);
    EXPECT_NEAR(gpu.energy_j, exact_j, 0.015 * exact_j) << "trial " << trial;
    ASSERT_TRUE(std::isfinite(gpu.sampled_energy_j));
    EXPECT_NEAR(gpu.sampled_energy_j, exact_j, 0.04 * exact_j);
    EXPECT_NEAR(gpu.mean_power_w, gpu.energy_j / result.duration_s, 1e-9);
  }
}

TEST_F(FakeNvml, SlowCounterReadsDoNotBlockBegin) {
  setenv("FAKE_NVML_COUNTER_COST_US", "3800", 1);  // like an H100
  MeterSet set = meter_set();
  const double before_s = now_s();
  EnergyWindow window(set, "w");
  const double begin_cost_s = now_s() - before_s;
  EXPECT_LT(begin_cost_s, 0.05);  // reading the counter is the sampler thread's job
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const WindowResult result = window.end();
  const double exact_j = exact_energy_(0, result.end_s) - exact_energy_(0, result.begin_s);
  EXPECT_NEAR(result.readings[0].energy_j, exact_j, 0.02 * exact_j);
}

TEST_F(FakeNvml, NoCounterFallsBackToSampledPower) {
  setenv("FAKE_NVML_COUNTER", "0", 1);
  MeterSet set = meter_set();
  EXPECT_EQ(set.meters()[0]->domains()[0].source, Source::sampled);
  EXPECT_EQ(set.meters()[0]->update_period_s(), 0.0);
  double exact_j = 0;
  const WindowResult result = run_step_window(set, &exact_j);
  EXPECT_EQ(result.readings[0].source, Source::sampled);
  EXPECT_FALSE(std::isfinite(result.readings[0].sampled_energy_j));
  EXPECT_NEAR(result.readings[0].energy_j, exact_j, 0.04 * exact_j);
}

TEST_F(FakeNvml, SampledModeCanBeForced) {
  NvmlMeter meter(options(NvmlMode::sampled));
  EXPECT_EQ(meter.domains()[0].source, Source::sampled);
}

TEST_F(FakeNvml, ErrorCodesBecomeClearErrors) {
  setenv("FAKE_NVML_INIT_ERROR", "9", 1);
  try {
    NvmlMeter meter(options());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Driver Not Loaded"), std::string::npos) << e.what();
  }
  unsetenv("FAKE_NVML_INIT_ERROR");
  setenv("FAKE_NVML_GPUS", "0", 1);
  EXPECT_THROW(NvmlMeter meter(options()), Error);
  unsetenv("FAKE_NVML_GPUS");
  NvmlMeterOptions missing;
  missing.library_path = "/nonexistent/libnvidia-ml.so.1";
  try {
    NvmlMeter meter(missing);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load"), std::string::npos) << e.what();
  }
  // Neither a counter nor power: the GPU cannot be metered.
  setenv("FAKE_NVML_COUNTER", "0", 1);
  setenv("FAKE_NVML_POWER_ERROR", "3", 1);
  EXPECT_THROW(NvmlMeter meter(options()), Error);
}

TEST_F(FakeNvml, LostGpuMidRunIsReportedNotCrashed) {
  setenv("FAKE_NVML_ENERGY_ERROR_AFTER", "4", 1);
  MeterSet set = meter_set();
  EnergyWindow window(set, "w");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  try {
    window.end();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GPU is lost"), std::string::npos) << e.what();
  }
}

TEST_F(FakeNvml, IdleBaselineGivesNetEnergy) {
  setenv("FAKE_NVML_POWER_W", "80", 1);
  MeterSet set = meter_set();
  const IdleBaseline idle = measure_idle_baseline(set, 0.4);
  ASSERT_EQ(idle.powers.size(), 1u);
  EXPECT_NEAR(idle.powers[0].power_w, 80, 1.5);
  EnergyWindows windows(set, {}, idle);
  windows.begin("load");
  set_power_(0, 280);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  set_power_(0, 80);
  const WindowResult result = windows.end("load");
  const EnergyReading& gpu = result.readings[0];
  EXPECT_TRUE(result.has_idle_baseline);
  EXPECT_NEAR(gpu.idle_energy_j, idle.powers[0].power_w * result.duration_s, 1e-9);
  EXPECT_NEAR(gpu.net_energy_j, gpu.energy_j - gpu.idle_energy_j, 1e-9);
  // Net is the 200 W above idle for the time the load ran.
  EXPECT_NEAR(gpu.net_energy_j, 200 * 0.4, 0.05 * 200 * 0.4);
}

TEST_F(FakeNvml, WindowsNestByName) {
  MeterSet set = meter_set();
  EnergyWindows windows(set);
  windows.begin("generate");
  windows.begin("prefill");
  EXPECT_THROW(windows.end("generate"), Error);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const WindowResult inner = windows.end("prefill");
  EXPECT_EQ(inner.name, "generate/prefill");
  EXPECT_EQ(inner.depth, 1);
  ASSERT_FALSE(inner.warnings.empty());  // 20 ms is shorter than one counter update
  EXPECT_NE(inner.warnings[0].find("update period"), std::string::npos);
  const WindowResult outer = windows.end("generate");
  EXPECT_EQ(outer.depth, 0);
  EXPECT_LE(outer.begin_s, inner.begin_s);
  EXPECT_GE(outer.end_s, inner.end_s);
  EXPECT_EQ(windows.results().size(), 2u);
  EXPECT_THROW(windows.end("generate"), Error);
  EXPECT_THROW(windows.begin("a/b"), Error);
}

TEST_F(FakeNvml, RepeatsShortWorkUntilEnoughCounterUpdates) {
  setenv("FAKE_NVML_POWER_W", "150", 1);
  MeterSet set = meter_set();
  EnergyWindows windows(set);
  int calls = 0;
  RepeatOptions repeat;
  repeat.min_counter_updates = 4;  // 0.4 s; the default 20 (2 s) is too slow for a unit test
  const RepeatedMeasurement m = measure_repeated(
      windows, "step", [&] {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      },
      repeat);
  EXPECT_GE(m.window.repetitions, 20);
  EXPECT_EQ(calls, m.window.repetitions + 1);  // plus the sizing run
  EXPECT_GE(m.window.counter_updates, 3.5);
  EXPECT_NEAR(m.per_repetition[0].energy_j * m.window.repetitions, m.window.readings[0].energy_j, 1e-9);
  EXPECT_NEAR(m.per_repetition[0].energy_j, 150 * m.seconds_per_repetition, 0.03 * 150 * m.seconds_per_repetition);
}

TEST_F(FakeNvml, WarmUpStopsWhenPowerIsStable) {
  setenv("FAKE_NVML_POWER_W", "120", 1);
  MeterSet set = meter_set();
  WarmUpOptions warm;
  warm.chunk_s = 0.15;
  warm.max_duration_s = 3;
  const WarmUpResult steady = warm_up(set, [] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); }, {}, warm);
  EXPECT_TRUE(steady.stable);
  ASSERT_GE(steady.chunk_power_w.size(), 3u);
  EXPECT_NEAR(steady.chunk_power_w.back(), 120, 120 * 0.03);

  // Power that keeps climbing 20% a chunk never settles: warm-up gives up at max_duration_s.
  double watts = 100;
  double chunk_start = now_s();
  warm.max_duration_s = 1.0;
  const WarmUpResult climbing = warm_up(set, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (now_s() - chunk_start > 0.15) {
      watts *= 1.2;
      set_power_(0, watts);
      chunk_start = now_s();
    }
  }, {}, warm);
  EXPECT_FALSE(climbing.stable);
  EXPECT_GE(climbing.duration_s, 1.0);
}

TEST(IsStable, Tolerance) {
  EXPECT_TRUE(is_stable({50, 100, 101, 99}, 3, 0.03));
  EXPECT_FALSE(is_stable({100, 110, 100}, 3, 0.03));
  EXPECT_FALSE(is_stable({100, 100}, 3, 0.03));
}

}  // namespace
}  // namespace eaq::energy
