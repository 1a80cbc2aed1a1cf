// A table of thermal design power (TDP) for common server and desktop CPUs, from the vendors'
// product pages, used by the CPU estimate meter when RAPL is unavailable.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace eaq::energy {

struct CpuTdp {
  std::string_view model;  // matched as a case-insensitive substring of /proc/cpuinfo's model name
  double tdp_w;            // the vendor's TDP (base power for Intel Core 12th gen and later)
  int threads;             // hardware threads of one chip
  std::string_view source;
};

std::span<const CpuTdp> cpu_tdp_table();
std::optional<CpuTdp> find_cpu_tdp(std::string_view model_name);
// The median TDP per hardware thread over the table: the fallback for CPUs it does not list.
double median_tdp_per_thread_w();

}  // namespace eaq::energy
