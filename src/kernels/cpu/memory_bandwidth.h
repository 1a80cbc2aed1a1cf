// A STREAM-style triad (a[i] = b[i] + s * c[i]) over arrays much larger than the caches: the
// memory-bandwidth bound that benchmarks print decode speed against, measured in the same run.
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace eaq::kernels {

// Bytes per array by default: three of these (384 MiB) dwarf the last-level cache of the machines
// we run on (the 2-core CI VM reaches DRAM speed from 32 MiB arrays).
inline constexpr std::size_t kDefaultTriadArrayBytes = std::size_t{128} << 20;

// Runs the triad with every thread of `pool` on its own contiguous slice (first touched by that
// thread), `repetitions` times, and returns the best rate in bytes per second, counted as STREAM
// does: 3 arrays × array_bytes per pass (the write-allocate read of `a` is not counted, so this
// is the conventional, slightly conservative figure). Throws eaq::Error if the arrays cannot be
// allocated.
double measure_triad_bandwidth_bytes_per_s(ThreadPool& pool,
                                           std::size_t array_bytes = kDefaultTriadArrayBytes,
                                           int repetitions = 5);

}  // namespace eaq::kernels
