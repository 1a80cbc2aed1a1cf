// CPU RMSNorm: the mean of squares is summed in double (cheap next to the matmuls, and it keeps
// long rows as exact as the f32 reference or better), then y = x * rsqrt(mean + eps) * (w + offset)
// in f32, in HF's order.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

void rms_norm(ThreadPool& pool, const float* x, const float* weight, float weight_offset, float eps,
              std::int64_t rows, std::int64_t dim, float* y) {
  const std::size_t d = static_cast<std::size_t>(dim);
  pool.parallel_for(static_cast<std::size_t>(rows), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      double sum_squares = 0.0;
      for (std::size_t i = 0; i < d; ++i) sum_squares += static_cast<double>(xr[i]) * xr[i];
      const float mean_square = static_cast<float>(sum_squares / static_cast<double>(d));
      const float inv_rms = static_cast<float>(1.0 / std::sqrt(static_cast<double>(mean_square + eps)));
      for (std::size_t i = 0; i < d; ++i) yr[i] = (xr[i] * inv_rms) * (weight[i] + weight_offset);
    }
  });
}

}  // namespace eaq::kernels::cpu
