// Costs of energy metering: what a window's begin and end cost the caller, a power read, and
// the overhead metering adds to a real workload.
//
// BM_MeteringOverhead runs an external workload alternately without any meter alive and inside a
// metered window (sampling threads polling, counter-update detection at both ends), and reports
// the workload's own timing both ways. Set EAQ_BENCH_LOAD_CMD to a shell command that prints a
// line "work_s=<seconds>" (its in-process timing of the work, so process start-up does not count),
// e.g. a ~10 s CUDA matmul loop on the GPU machine. Without it that benchmark is skipped.
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "energy/energy_window.h"
#include "energy/meter_set.h"

namespace {

using namespace eaq::energy;

void BM_WindowBeginOnCallerThread(benchmark::State& state) {
  MeterSet meters = MeterSet::detect({});
  for (auto _ : state) {
    const double t = now_s();
    std::vector<PendingEnergies> pending;
    for (const auto& meter : meters.meters()) pending.push_back(meter->energy_at(t));
    benchmark::DoNotOptimize(pending);
    state.PauseTiming();
    for (auto& p : pending) p.get();  // resolution is the sampler's work, not the caller's
    state.ResumeTiming();
  }
  state.SetLabel(fmt::format("{} meter(s)", meters.meters().size()));
}
BENCHMARK(BM_WindowBeginOnCallerThread)->Unit(benchmark::kMicrosecond);

void BM_WindowBeginEnd(benchmark::State& state) {
  MeterSet meters = MeterSet::detect({});
  for (auto _ : state) {
    EnergyWindow window(meters, "empty");
    benchmark::DoNotOptimize(window.end());
  }
}
BENCHMARK(BM_WindowBeginEnd)->Unit(benchmark::kMillisecond);

void BM_PowerRead(benchmark::State& state) {
  MeterSet meters = MeterSet::detect({});
  for (auto _ : state) {
    for (const auto& meter : meters.meters()) benchmark::DoNotOptimize(meter->power_w());
  }
}
BENCHMARK(BM_PowerRead)->Unit(benchmark::kMicrosecond);

// Runs the load command and returns the work_s it printed (nullopt when it printed none).
std::optional<double> run_load(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  char line[512];
  std::optional<double> work_s;
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    const std::string text(line);
    const auto pos = text.find("work_s=");
    if (pos != std::string::npos) work_s = std::atof(text.c_str() + pos + 7);
  }
  if (pclose(pipe) != 0) return std::nullopt;
  return work_s;
}

void BM_MeteringOverhead(benchmark::State& state) {
  const char* command = std::getenv("EAQ_BENCH_LOAD_CMD");
  if (command == nullptr || *command == '\0') {
    state.SkipWithError("set EAQ_BENCH_LOAD_CMD to a workload that prints work_s=<seconds>");
    return;
  }
  double plain_s = 0, metered_s = 0, end_wait_s = 0, energy_j = 0, sampled_j = 0;
  int runs = 0;
  for (auto _ : state) {
    const auto plain = run_load(command);  // no meter exists during this run
    std::optional<double> metered;
    {
      MeterSet meters = MeterSet::detect({});
      EnergyWindow window(meters, "load");
      metered = run_load(command);
      const double work_end_s = now_s();
      const WindowResult result = window.end();
      end_wait_s += now_s() - work_end_s;
      energy_j += result.total_energy_j();
      for (const auto& r : result.readings) {
        if (std::isfinite(r.sampled_energy_j)) sampled_j += r.sampled_energy_j;
      }
    }
    if (!plain || !metered) {
      state.SkipWithError("the load command failed or printed no work_s=");
      return;
    }
    plain_s += *plain;
    metered_s += *metered;
    ++runs;
  }
  state.counters["plain_work_s"] = plain_s / runs;
  state.counters["metered_work_s"] = metered_s / runs;
  state.counters["overhead_pct"] = 100.0 * (metered_s / plain_s - 1.0);
  state.counters["end_wait_s"] = end_wait_s / runs;
  state.counters["energy_j"] = energy_j / runs;
  state.counters["sampled_vs_counter_pct"] = sampled_j > 0 ? 100.0 * (sampled_j / energy_j - 1.0) : 0.0;
}
// Alternating pairs; three iterations average out run-to-run noise.
BENCHMARK(BM_MeteringOverhead)->Iterations(3)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
