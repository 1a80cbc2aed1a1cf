// `eaq hw`: the hardware eaq sees and the energy meters it will use, with the reason for each.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "energy/cpu_info.h"
#include "energy/energy_json.h"
#include "energy/meter_set.h"

namespace eaq::cli {

namespace {

void run_hw(bool json) {
  energy::MeterOptions options;
  energy::MeterSet meters = energy::MeterSet::detect(options);
  const energy::CpuInfo cpu = energy::read_cpu_info();
  std::vector<energy::GpuInfo> gpus;
  energy::NvmlMeter* nvml = meters.nvml();
  if (nvml != nullptr) gpus = nvml->gpu_info();

  const energy::MeterDecision* rapl = nullptr;
  for (const auto& decision : meters.decisions()) {
    if (decision.meter == "rapl") rapl = &decision;
  }

  if (json) {
    nlohmann::json out;
    out["gpus"] = nlohmann::json::array();
    for (const auto& gpu : gpus) {
      auto entry = energy::to_json(gpu);
      entry["driver_version"] = nvml->driver_version();
      out["gpus"].push_back(entry);
    }
    out["nvml"] = nvml != nullptr
                      ? nlohmann::json{{"available", true}, {"library", nvml->library_path()},
                                       {"driver_version", nvml->driver_version()}}
                      : nlohmann::json{{"available", false}};
    out["cpu"] = {{"model", cpu.model},
                  {"logical_cpus", cpu.logical_cpus},
                  {"physical_cores", cpu.physical_cores},
                  {"sockets", cpu.sockets},
                  {"memory_bytes", cpu.memory_bytes}};
    out["rapl"] = {{"available", rapl != nullptr && rapl->used}, {"reason", rapl ? rapl->reason : ""}};
    out["meters"] = nlohmann::json::array();
    for (const auto& decision : meters.decisions()) out["meters"].push_back(energy::to_json(decision));
    fmt::print("{}\n", out.dump(2));
    return;
  }

  fmt::print("GPUs\n");
  if (gpus.empty()) fmt::print("  none visible through NVML\n");
  for (const auto& gpu : gpus) {
    fmt::print("  gpu:{}  {}  driver {}\n", gpu.index, gpu.name, nvml->driver_version());
    fmt::print("         power limit {}  energy counter {}  ({})\n",
               gpu.power_limit_w ? fmt::format("{:.0f} W", *gpu.power_limit_w) : "n/a",
               gpu.energy_counter ? "yes" : "no", energy::to_string(gpu.source));
    fmt::print("         now: {}  SM {}  memory {}  {}  memory used {}\n",
               gpu.power_w ? fmt::format("{:.1f} W", *gpu.power_w) : "power n/a",
               gpu.sm_clock_mhz ? fmt::format("{} MHz", *gpu.sm_clock_mhz) : "n/a",
               gpu.memory_clock_mhz ? fmt::format("{} MHz", *gpu.memory_clock_mhz) : "n/a",
               gpu.temperature_c ? fmt::format("{} C", *gpu.temperature_c) : "n/a",
               gpu.memory_used_bytes && gpu.memory_total_bytes
                   ? fmt::format("{:.1f} / {:.1f} GiB", *gpu.memory_used_bytes / 1073741824.0,
                                 *gpu.memory_total_bytes / 1073741824.0)
                   : "n/a");
  }
  fmt::print("CPU\n  {}\n  {} logical CPUs, {} physical cores, {} socket(s), {:.1f} GiB memory\n", cpu.model,
             cpu.logical_cpus, cpu.physical_cores, cpu.sockets, cpu.memory_bytes / 1073741824.0);
  fmt::print("RAPL\n  {}\n", rapl != nullptr && rapl->used ? "available: " + rapl->reason
                                                            : "unavailable: " + (rapl ? rapl->reason : ""));
  fmt::print("Meters\n");
  for (const auto& decision : meters.decisions()) {
    fmt::print("  {:<13} {:<8} {}\n", decision.meter, decision.used ? "used" : "not used", decision.reason);
  }
}

}  // namespace

void register_hw_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("hw", "Show GPUs, CPU, RAPL availability and which energy meters eaq will use");
  static bool json = false;
  cmd->add_flag("--json", json, "Print JSON");
  cmd->callback([] { run_hw(json); });
}

}  // namespace eaq::cli
