// STREAM-style triad bandwidth measurement (see memory_bandwidth.h).
#include "kernels/cpu/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <new>

#include "core/error.h"

namespace eaq::kernels {

namespace {

struct Slice {
  std::size_t begin, end;
};

// Thread index t of n_threads gets the same slice in every pass (first touch = later use).
Slice slice_of(std::size_t n, std::size_t n_threads, std::size_t t) {
  return {n * t / n_threads, n * (t + 1) / n_threads};
}

void triad(double* __restrict a, const double* __restrict b, const double* __restrict c, double s,
           std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace

double measure_triad_bandwidth_bytes_per_s(ThreadPool& pool, std::size_t array_bytes, int repetitions) {
  const std::size_t n = array_bytes / sizeof(double);
  if (n == 0 || repetitions <= 0) fail("triad bandwidth: need a positive array size and repetitions");
  std::unique_ptr<double[]> a(new (std::nothrow) double[n]);
  std::unique_ptr<double[]> b(new (std::nothrow) double[n]);
  std::unique_ptr<double[]> c(new (std::nothrow) double[n]);
  if (!a || !b || !c) fail("triad bandwidth: cannot allocate 3 × {} MiB; pass a smaller array size", array_bytes >> 20);
  const std::size_t n_threads = static_cast<std::size_t>(pool.n_threads());
  pool.parallel_for(n_threads, [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) {
      const Slice s = slice_of(n, n_threads, t);
      std::fill(a.get() + s.begin, a.get() + s.end, 0.0);
      std::fill(b.get() + s.begin, b.get() + s.end, 1.0);
      std::fill(c.get() + s.begin, c.get() + s.end, 2.0);
    }
  });
  double best_s = 0.0;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(n_threads, [&](std::size_t t0, std::size_t t1) {
      for (std::size_t t = t0; t < t1; ++t) {
        const Slice s = slice_of(n, n_threads, t);
        triad(a.get(), b.get(), c.get(), 3.0, s.begin, s.end);
      }
    });
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r == 0 || elapsed_s < best_s) best_s = elapsed_s;
  }
  // Read a result so the passes cannot be optimized away.
  if (a[n / 2] != 1.0 + 3.0 * 2.0) fail("triad bandwidth: wrong result {}", a[n / 2]);
  return 3.0 * static_cast<double>(n * sizeof(double)) / best_s;
}

}  // namespace eaq::kernels
