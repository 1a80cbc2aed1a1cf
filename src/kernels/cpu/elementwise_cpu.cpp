// CPU residual add and in-place scale: plain loops the compiler vectorizes; memory bound, so
// split over the pool only when the array is large enough to pay for the wake-up.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

namespace {
constexpr std::size_t kChunkElements = 65536;

template <class Fn>
void for_chunks(ThreadPool& pool, std::int64_t n, Fn fn) {
  const std::size_t count = static_cast<std::size_t>(n);
  const std::size_t n_chunks = (count + kChunkElements - 1) / kChunkElements;
  pool.parallel_for(n_chunks, [&](std::size_t c0, std::size_t c1) {
    fn(c0 * kChunkElements, std::min(count, c1 * kChunkElements));
  });
}
}  // namespace

void add(ThreadPool& pool, const float* a, const float* b, float* y, std::int64_t n) {
  for_chunks(pool, n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
  });
}

void scale(ThreadPool& pool, float* x, float s, std::int64_t n) {
  for_chunks(pool, n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) x[i] *= s;
  });
}

}  // namespace eaq::kernels::cpu
