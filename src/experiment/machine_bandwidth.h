// The machine's memory bandwidth, the bound decode speed is compared with: a STREAM-style triad
// (kernels/cpu/memory_bandwidth.h) with the bench's thread count, measured once per machine and
// thread count and cached as JSON (cache_dir()/bandwidth-<host>-<cpu model>-t<threads>.json: the
// figure, how and when it was measured). Delete the file to measure again. On a GPU the bound is a
// device-to-device copy measured at every run.
#pragma once

#include <string>

namespace eaq::experiment {

struct MachineBandwidth {
  double bytes_per_s = 0;
  int threads = 0;
  std::string method;       // "STREAM triad, 3 x 128 MiB arrays, best of 5"
  std::string measured_at;  // UTC, ISO 8601
  std::string cpu_model;
  std::string hostname;
  bool from_cache = false;
  std::string cache_file;   // empty when it could not be cached
};

MachineBandwidth machine_bandwidth(int threads, const std::string& configured_cache_dir = "");

// GPU cuda:N's memory bandwidth as a device-to-device copy reaches it (read + written bytes),
// measured now (not cached). eaq::Error without the CUDA backend.
MachineBandwidth gpu_bandwidth(int device_index);

// The host name and CPU model as one file-name-safe key, e.g. "ci-vm-amd-epyc-7763".
std::string machine_key(const std::string& hostname, const std::string& cpu_model);

}  // namespace eaq::experiment
