// CpuInfo: the host CPU model, core counts and memory size from /proc (for `eaq hw` and for the
// CPU estimate meter's power model).
#pragma once

#include <cstdint>
#include <string>

namespace eaq::energy {

struct CpuInfo {
  std::string model;       // "model name" of the first processor; "unknown" when absent
  int logical_cpus = 0;    // processors the OS shows us (vCPUs in a VM)
  int physical_cores = 0;  // distinct (physical id, core id); 0 when /proc/cpuinfo lacks them
  int sockets = 0;         // distinct physical id; 0 when absent
  std::uint64_t memory_bytes = 0;  // MemTotal
};

// Reads <proc_root>/cpuinfo and <proc_root>/meminfo. Missing fields stay at their defaults.
CpuInfo read_cpu_info(const std::string& proc_root = "/proc");

}  // namespace eaq::energy
