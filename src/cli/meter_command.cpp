// `eaq meter -- CMD...`: runs a command and reports the energy it used per domain (gross, idle,
// net), its mean power and duration, and the carbon and cost of that energy. The command's own
// exit code is passed on, and a failing command is still reported.
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "core/error.h"
#include "energy/carbon.h"
#include "energy/energy_json.h"
#include "energy/energy_window.h"
#include "energy/meter_set.h"

extern char** environ;

namespace eaq::cli {

namespace {

struct MeterFlags {
  std::vector<std::string> command;
  double idle_s = 5.0;
  bool json = false;
  std::string json_file;
  double interval_ms = 10;
  std::string nvml_mode = "auto";
  bool no_gpu = false;
  bool no_cpu = false;
  bool cpu_estimate = false;
  double cpu_tdp_w = 0;
  std::string country;
  std::string region;
  double carbon_intensity = -1;
  double pue = 1.0;
  double price_per_kwh = -1;
  std::string currency = "USD";
};

// Runs the command with the parent's stdio; returns its exit status as a shell would
// (128 + signal when killed). Throws when the command cannot be started.
int run_child(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // Ctrl-C reaches the whole foreground group: the command decides what to do with it, eaq keeps
  // running so it can still report what was used.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {}, old_term {}, old_quit {};
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGTERM, &ignore, &old_term);
  sigaction(SIGQUIT, &ignore, &old_quit);
  auto restore = [&] {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
  };
  // The child gets default signal handling back.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, argv[0], nullptr, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    restore();
    return -spawn_error;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      restore();
      fail("waiting for '{}' failed: {}", command[0], std::strerror(errno));
    }
  }
  restore();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += ' ';
    out += word.find_first_of(" \t'\"") == std::string::npos ? word : "'" + word + "'";
  }
  return out;
}

void print_table(const MeterFlags& flags, int exit_code, const energy::WindowResult& result,
                 const energy::IdleBaseline& idle, const energy::MeterSet& meters,
                 const carbon::Footprint& gross, const carbon::Footprint& net) {
  fmt::print("\neaq meter: `{}` exited with {} after {:.2f} s\n", joined(flags.command), exit_code,
             result.duration_s);
  for (const auto& decision : meters.decisions()) {
    if (decision.used) fmt::print("  meter {}: {}\n", decision.meter, decision.reason);
  }
  for (const auto& decision : meters.decisions()) {
    if (!decision.used) fmt::print("  not used {}: {}\n", decision.meter, decision.reason);
  }
  if (idle.duration_s > 0) {
    fmt::print("  idle baseline measured over {:.1f} s before the command\n", idle.duration_s);
  } else {
    fmt::print("  no idle baseline (--idle 0): net = gross\n");
  }
  fmt::print("\n{:<14} {:<9} {:>12} {:>9} {:>11} {:>12} {:>9}\n", "domain", "source", "gross J",
             "idle W", "idle J", "net J", "mean W");
  for (const auto& r : result.readings) {
    fmt::print("{:<14} {:<9} {:>12.2f} {:>9.2f} {:>11.2f} {:>12.2f} {:>9.2f}{}\n", r.domain,
               energy::to_string(r.source), r.energy_j, r.idle_power_w, r.idle_energy_j, r.net_energy_j,
               r.mean_power_w, r.in_total ? "" : "  (inside another zone, not in total)");
  }
  const double total_idle_w = result.duration_s > 0 ? result.total_idle_energy_j() / result.duration_s : 0;
  fmt::print("{:<14} {:<9} {:>12.2f} {:>9.2f} {:>11.2f} {:>12.2f} {:>9.2f}\n", "total", "",
             result.total_energy_j(), total_idle_w, result.total_idle_energy_j(),
             result.total_net_energy_j(), result.duration_s > 0 ? result.total_energy_j() / result.duration_s : 0);
  for (const auto& r : result.readings) {
    const double percent = energy::counter_vs_sampled_percent(r);
    if (std::isfinite(percent)) {
      fmt::print("{}: counter {:.2f} J, sampled power integrated {:.2f} J ({:+.2f}%)\n", r.domain,
                 r.energy_j, r.sampled_energy_j, percent);
    }
  }
  fmt::print("\ncarbon: {:.4f} gCO2e gross, {:.4f} gCO2e net at {:.1f} gCO2e/kWh ({}; {}, {}), PUE {:.2f}\n",
             gross.grams_co2e, net.grams_co2e, gross.intensity.g_per_kwh, gross.intensity.basis,
             gross.intensity.source, gross.intensity.year == 0 ? std::string("given")
                                                                : std::to_string(gross.intensity.year),
             gross.pue);
  fmt::print("cost:   {:.6f} {} gross, {:.6f} {} net at {:.4f} {}/kWh{}\n", gross.cost, gross.currency,
             net.cost, net.currency, gross.price_per_kwh, gross.currency,
             gross.price_assumed ? " (assumed; set --price-per-kwh)" : "");
  for (const auto& warning : result.warnings) fmt::print("warning: {}\n", warning);
}

int run_meter(const MeterFlags& flags) {
  if (flags.command.empty()) fail("eaq meter needs a command: eaq meter [options] -- CMD ARGS...");
  if (!(flags.idle_s >= 0 && flags.idle_s <= 600)) fail("--idle must be within [0, 600] s, got {}", flags.idle_s);
  if (!(flags.interval_ms >= 1 && flags.interval_ms <= 10000)) {
    fail("--interval-ms must be within [1, 10000], got {}", flags.interval_ms);
  }
  carbon::CarbonOptions carbon;
  carbon.country = flags.country;
  carbon.region = flags.region;
  if (flags.carbon_intensity >= 0) carbon.intensity_g_per_kwh = flags.carbon_intensity;
  carbon.pue = flags.pue;
  if (flags.price_per_kwh >= 0) {
    carbon.price_per_kwh = flags.price_per_kwh;
    carbon.price_given = true;
  }
  carbon.currency = flags.currency;
  carbon::resolve_intensity(carbon);  // bad flags fail before the command runs

  energy::MeterOptions options;
  options.gpu = !flags.no_gpu;
  options.cpu = !flags.no_cpu;
  options.force_cpu_estimate = flags.cpu_estimate;
  options.sample_interval_s = flags.interval_ms / 1000.0;
  options.cpu_estimate.tdp_w = flags.cpu_tdp_w;
  if (flags.nvml_mode == "sampled") {
    options.nvml.mode = energy::NvmlMode::sampled;
  } else if (flags.nvml_mode != "auto") {
    fail("--nvml-mode must be auto or sampled, got '{}'", flags.nvml_mode);
  }
  energy::MeterSet meters = energy::MeterSet::detect(options);
  if (meters.empty()) spdlog::warn("no energy meter is usable here; the command runs unmetered");

  energy::IdleBaseline idle;
  if (flags.idle_s > 0 && !meters.empty()) {
    spdlog::info("measuring idle power for {:.1f} s (--idle 0 to skip)", flags.idle_s);
    idle = energy::measure_idle_baseline(meters, flags.idle_s);
  }

  energy::EnergyWindow window(meters, "command", {}, idle);
  const int status = run_child(flags.command);
  energy::WindowResult result = window.end();
  if (status < 0) {
    // Like a shell: 127 when the command cannot be found or started.
    fmt::print(stderr, "eaq: error: cannot run '{}': {}. Check the command name and PATH.\n",
               flags.command[0], std::strerror(-status));
    return 127;
  }
  const int exit_code = status;

  const carbon::Footprint gross = carbon::footprint(result.total_energy_j(), carbon);
  const carbon::Footprint net = carbon::footprint(std::max(0.0, result.total_net_energy_j()), carbon);

  nlohmann::json out;
  out["command"] = flags.command;
  out["exit_code"] = exit_code;
  out["duration_s"] = result.duration_s;
  out["idle_baseline"] = energy::to_json(idle);
  out["window"] = energy::to_json(result);
  out["carbon"] = energy::to_json(gross);
  out["carbon_net"] = energy::to_json(net);
  out["meters"] = nlohmann::json::array();
  for (const auto& decision : meters.decisions()) out["meters"].push_back(energy::to_json(decision));
  out["gpus"] = nlohmann::json::array();
  if (energy::NvmlMeter* nvml = meters.nvml()) {
    for (const auto& gpu : nvml->gpu_info()) out["gpus"].push_back(energy::to_json(gpu));
  }
  if (!flags.json_file.empty()) {
    std::ofstream file(flags.json_file);
    if (!file) fail("cannot write the JSON report to {}: check the directory exists and is writable", flags.json_file);
    file << out.dump(2) << "\n";
  }
  if (flags.json) {
    fmt::print("{}\n", out.dump(2));
  } else {
    print_table(flags, exit_code, result, idle, meters, gross, net);
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

void register_meter_command(CLI::App& app) {
  static MeterFlags flags;
  auto* cmd = app.add_subcommand(
      "meter", "Run a command and report its energy per domain (gross, idle, net), power, CO2e and cost");
  cmd->add_option("--idle", flags.idle_s, "Seconds of idle baseline measured before the command (0: none)")
      ->capture_default_str();
  cmd->add_flag("--json", flags.json, "Print the report as JSON (after the command's own output)");
  cmd->add_option("--json-file", flags.json_file, "Also write the JSON report to this file");
  cmd->add_option("--interval-ms", flags.interval_ms, "Power sampling interval in ms")->capture_default_str();
  cmd->add_option("--nvml-mode", flags.nvml_mode, "auto (energy counter where supported) or sampled")
      ->capture_default_str();
  cmd->add_flag("--no-gpu", flags.no_gpu, "Do not meter GPUs");
  cmd->add_flag("--no-cpu", flags.no_cpu, "Do not meter the CPU");
  cmd->add_flag("--cpu-estimate", flags.cpu_estimate, "Estimate CPU energy even when RAPL is readable");
  cmd->add_option("--cpu-tdp-w", flags.cpu_tdp_w, "CPU TDP in W for the CPU estimate (default: table)");
  cmd->add_option("--country", flags.country, "Grid country (ISO code or name) for carbon intensity");
  cmd->add_option("--region", flags.region, "Cloud region id for carbon intensity (e.g. us-central1)");
  cmd->add_option("--carbon-intensity", flags.carbon_intensity, "Grid carbon intensity in gCO2e/kWh");
  cmd->add_option("--pue", flags.pue, "Power usage effectiveness of the facility (1.0 = device only)")
      ->capture_default_str();
  cmd->add_option("--price-per-kwh", flags.price_per_kwh, "Electricity price per kWh");
  cmd->add_option("--currency", flags.currency, "Currency of --price-per-kwh")->capture_default_str();
  cmd->add_option("command", flags.command, "The command to run, after --")->required();
  cmd->callback([] {
    const int exit_code = run_meter(flags);
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace eaq::cli
