// The CPU TDP table (vendor specifications) and its lookup.
#include "energy/cpu_tdp_table.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace eaq::energy {

namespace {

constexpr std::string_view kIntel = "Intel product specifications (ark.intel.com)";
constexpr std::string_view kAmd = "AMD product specifications (amd.com)";

// More specific names first: the first substring match wins.
constexpr std::array kTable = {
    CpuTdp{"Platinum 8480", 350, 112, kIntel},   // Sapphire Rapids, 56 cores
    CpuTdp{"Platinum 8468", 350, 96, kIntel},    // 48 cores
    CpuTdp{"Platinum 8462Y", 300, 64, kIntel},   // 32 cores
    CpuTdp{"Platinum 8380", 270, 80, kIntel},    // Ice Lake, 40 cores
    CpuTdp{"Platinum 8358", 250, 64, kIntel},    // 32 cores
    CpuTdp{"Platinum 8280", 205, 56, kIntel},    // Cascade Lake, 28 cores
    CpuTdp{"Gold 6338", 205, 64, kIntel},        // 32 cores
    CpuTdp{"Gold 6248", 150, 40, kIntel},        // 20 cores
    CpuTdp{"Gold 6148", 150, 40, kIntel},        // Skylake, 20 cores
    CpuTdp{"E5-2690 v4", 135, 28, kIntel},       // Broadwell, 14 cores
    CpuTdp{"i9-13900K", 125, 32, kIntel},        // 8P + 16E cores, base power
    CpuTdp{"i9-12900K", 125, 24, kIntel},        // 8P + 8E cores, base power
    CpuTdp{"i7-12700K", 125, 20, kIntel},        // 8P + 4E cores, base power
    CpuTdp{"EPYC 9654", 360, 192, kAmd},         // Genoa, 96 cores
    CpuTdp{"EPYC 9554", 360, 128, kAmd},         // 64 cores
    CpuTdp{"EPYC 7763", 280, 128, kAmd},         // Milan, 64 cores
    CpuTdp{"EPYC 7713", 225, 128, kAmd},         // 64 cores
    CpuTdp{"EPYC 7742", 225, 128, kAmd},         // Rome, 64 cores
    CpuTdp{"EPYC 7543", 225, 64, kAmd},          // 32 cores
    CpuTdp{"Threadripper 3990X", 280, 128, kAmd},
    CpuTdp{"Ryzen 9 7950X", 170, 32, kAmd},
    CpuTdp{"Ryzen 9 5950X", 105, 32, kAmd},
    CpuTdp{"Ryzen 9 5900X", 105, 24, kAmd},
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::span<const CpuTdp> cpu_tdp_table() { return kTable; }

std::optional<CpuTdp> find_cpu_tdp(std::string_view model_name) {
  const std::string name = lower(model_name);
  for (const auto& entry : kTable) {
    if (name.find(lower(entry.model)) != std::string::npos) return entry;
  }
  return std::nullopt;
}

double median_tdp_per_thread_w() {
  std::vector<double> per_thread;
  for (const auto& entry : kTable) per_thread.push_back(entry.tdp_w / entry.threads);
  std::sort(per_thread.begin(), per_thread.end());
  const std::size_t n = per_thread.size();
  return n % 2 == 1 ? per_thread[n / 2] : 0.5 * (per_thread[n / 2 - 1] + per_thread[n / 2]);
}

}  // namespace eaq::energy
