// `eaq hw`: the hardware eaq sees and the energy meters it will use, with the reason for each.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "energy/cpu_info.h"
#include "energy/energy_json.h"
#include "energy/meter_set.h"
#if EAQ_HAVE_CUDA
#include "kernels/cuda/cuda_device.h"
#endif

namespace eaq::cli {

namespace {

// The CUDA backend's view (--device cuda:N), beside NVML's (energy): the two can disagree, e.g.
// a driver whose CUDA version is older than the runtime eaq was built with.
nlohmann::json cuda_backend_json() {
#if EAQ_HAVE_CUDA
  const auto probe = kernels::cuda::probe_cuda();
  nlohmann::json out{{"built", true},
                     {"usable", probe.usable},
                     {"reason", probe.reason},
                     {"runtime_version", kernels::cuda::cuda_version_string(probe.runtime_version)},
                     {"driver_cuda_version", kernels::cuda::cuda_version_string(probe.driver_version)}};
  out["devices"] = nlohmann::json::array();
  for (const auto& d : probe.devices) {
    out["devices"].push_back({{"device", fmt::format("cuda:{}", d.index)},
                              {"name", d.name},
                              {"compute_capability", fmt::format("{}.{}", d.compute_major, d.compute_minor)},
                              {"multiprocessors", d.multiprocessors},
                              {"memory_total_bytes", d.total_bytes},
                              {"memory_free_bytes", d.free_bytes}});
  }
  return out;
#else
  return nlohmann::json{{"built", false}, {"usable", false}, {"reason", "eaq was built without the CUDA backend"}};
#endif
}

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
    out["cuda_backend"] = cuda_backend_json();
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
  const nlohmann::json cuda = cuda_backend_json();
  fmt::print("CUDA backend (--device cuda:N)\n");
  if (!cuda["usable"].get<bool>()) fmt::print("  unavailable: {}\n", cuda["reason"].get<std::string>());
  if (cuda.contains("runtime_version") && cuda["driver_cuda_version"].get<std::string>() != "0.0") {
    fmt::print("  CUDA runtime {} (built in), driver supports CUDA {}\n", cuda["runtime_version"].get<std::string>(),
               cuda["driver_cuda_version"].get<std::string>());
  }
  if (cuda.contains("devices")) {
    for (const auto& d : cuda["devices"]) {
      fmt::print("  {}  {}  compute {}  {} SMs  {:.1f} GiB ({:.1f} free)\n", d["device"].get<std::string>(),
                 d["name"].get<std::string>(), d["compute_capability"].get<std::string>(), d["multiprocessors"].get<int>(),
                 d["memory_total_bytes"].get<double>() / 1073741824.0, d["memory_free_bytes"].get<double>() / 1073741824.0);
    }
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
