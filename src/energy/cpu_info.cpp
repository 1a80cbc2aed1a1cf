// CpuInfo: parsing of /proc/cpuinfo and /proc/meminfo.
#include "energy/cpu_info.h"

#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

namespace eaq::energy {

namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

CpuInfo read_cpu_info(const std::string& proc_root) {
  CpuInfo info;
  info.model = "unknown";
  std::ifstream cpuinfo(proc_root + "/cpuinfo");
  std::string line;
  std::set<std::pair<std::string, std::string>> cores;
  std::set<std::string> sockets;
  std::string physical_id;
  bool have_model = false;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "processor") {
      ++info.logical_cpus;
    } else if (key == "model name" && !have_model) {
      info.model = value;
      have_model = true;
    } else if (key == "physical id") {
      physical_id = value;
      sockets.insert(value);
    } else if (key == "core id") {
      cores.insert({physical_id, value});
    }
  }
  if (info.logical_cpus == 0) info.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  info.physical_cores = static_cast<int>(cores.size());
  info.sockets = static_cast<int>(sockets.size());

  std::ifstream meminfo(proc_root + "/meminfo");
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream fields(line.substr(9));
      std::uint64_t kib = 0;
      fields >> kib;
      info.memory_bytes = kib * 1024;
      break;
    }
  }
  return info;
}

}  // namespace eaq::energy
