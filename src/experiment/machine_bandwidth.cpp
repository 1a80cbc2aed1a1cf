// Triad bandwidth with a per-machine cache.
#include "experiment/machine_bandwidth.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <fstream>

#include "core/error.h"
#include "core/thread_pool.h"
#include "energy/cpu_info.h"
#include "experiment/cache_dir.h"
#include "experiment/provenance.h"
#include "kernels/cpu/memory_bandwidth.h"
#if EAQ_HAVE_CUDA
#include "kernels/cuda/cuda_device.h"
#endif

namespace eaq::experiment {

std::string machine_key(const std::string& hostname, const std::string& cpu_model) {
  std::string key;
  for (char c : hostname + "-" + cpu_model) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      key += static_cast<char>(std::tolower(u));
    } else if (!key.empty() && key.back() != '-') {
      key += '-';
    }
  }
  while (!key.empty() && key.back() == '-') key.pop_back();
  return key.substr(0, 120);
}

MachineBandwidth machine_bandwidth(int threads, const std::string& configured_cache_dir) {
  MachineBandwidth b;
  b.threads = threads;
  b.hostname = host_name();
  b.cpu_model = energy::read_cpu_info().model;
  const auto dir = cache_dir(configured_cache_dir);
  std::filesystem::path file;
  if (!dir.empty()) {
    file = dir / ("bandwidth-" + machine_key(b.hostname, b.cpu_model) + "-t" + std::to_string(threads) + ".json");
    std::ifstream in(file);
    if (in) {
      try {
        const auto j = nlohmann::json::parse(in);
        if (j.at("threads").get<int>() == threads && j.at("bytes_per_s").get<double>() > 0) {
          b.bytes_per_s = j.at("bytes_per_s").get<double>();
          b.method = j.at("method").get<std::string>();
          b.measured_at = j.at("measured_at").get<std::string>();
          b.from_cache = true;
          b.cache_file = file.string();
          return b;
        }
      } catch (const std::exception& e) {
        spdlog::warn("ignoring the unreadable bandwidth cache {} ({}); measuring again", file.string(), e.what());
      }
    }
  }
  constexpr int kRepetitions = 5;
  ThreadPool pool(threads);
  b.bytes_per_s = kernels::measure_triad_bandwidth_bytes_per_s(pool, kernels::kDefaultTriadArrayBytes, kRepetitions);
  b.method = fmt::format("STREAM triad, 3 x {} MiB arrays, {} threads, best of {}",
                         kernels::kDefaultTriadArrayBytes >> 20, threads, kRepetitions);
  b.measured_at = utc_timestamp();
  if (!file.empty()) {
    const nlohmann::json j = {{"bytes_per_s", b.bytes_per_s}, {"threads", threads},      {"method", b.method},
                              {"measured_at", b.measured_at}, {"cpu_model", b.cpu_model}, {"hostname", b.hostname}};
    if (write_file_atomically(file, j.dump(2) + "\n")) {
      b.cache_file = file.string();
    } else {
      spdlog::warn("could not cache the measured bandwidth in {}; it will be measured again next run", file.string());
    }
  }
  return b;
}

MachineBandwidth gpu_bandwidth([[maybe_unused]] int device_index) {
#if EAQ_HAVE_CUDA
  // 1 GiB per buffer: far past the 50 MiB L2 of an H100, short enough (~1 ms a copy) to measure
  // at every run rather than cache (clocks and other tenants change between runs).
  constexpr std::size_t kBytes = std::size_t{1} << 30;
  constexpr int kRepetitions = 10;
  const auto copy = kernels::cuda::measure_copy_bandwidth(device_index, kBytes, kRepetitions);
  MachineBandwidth b;
  b.bytes_per_s = copy.bytes_per_s;
  b.threads = 0;
  b.method = fmt::format("device-to-device copy on cuda:{}, {} MiB read + written, best of {}", device_index,
                         kBytes >> 20, kRepetitions);
  b.measured_at = utc_timestamp();
  b.hostname = host_name();
  return b;
#else
  fail("the GPU's bandwidth cannot be measured: this eaq was built without the CUDA backend");
#endif
}

}  // namespace eaq::experiment
