// CPU rotary position embedding. The angle is formed in f32 exactly as HF does
// (position * inv_freq, one f32 rounding), then cos/sin are taken in double and rounded once,
// scaled by attention_factor, and applied to every head of the token.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

void rope(ThreadPool& pool, float* x, std::int64_t n_tokens, std::int64_t n_heads,
          std::int64_t head_dim, const std::int32_t* positions, const float* inv_freq,
          RopeLayout layout, float attention_factor) {
  const std::size_t hd = static_cast<std::size_t>(head_dim);
  const std::size_t half = hd / 2;
  const std::size_t heads = static_cast<std::size_t>(n_heads);
  pool.parallel_for(static_cast<std::size_t>(n_tokens), [&](std::size_t t0, std::size_t t1) {
    thread_local std::vector<float> cos_sin;
    cos_sin.resize(2 * half);
    float* cos_v = cos_sin.data();
    float* sin_v = cos_sin.data() + half;
    for (std::size_t t = t0; t < t1; ++t) {
      const float position = static_cast<float>(positions[t]);
      for (std::size_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(position * inv_freq[i]);
        cos_v[i] = static_cast<float>(std::cos(angle)) * attention_factor;
        sin_v[i] = static_cast<float>(std::sin(angle)) * attention_factor;
      }
      for (std::size_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * hd;
        for (std::size_t i = 0; i < half; ++i) {
          float* p0 = layout == RopeLayout::kNormal ? v + 2 * i : v + i;
          float* p1 = layout == RopeLayout::kNormal ? v + 2 * i + 1 : v + i + half;
          const float x0 = *p0;
          const float x1 = *p1;
          *p0 = x0 * cos_v[i] - x1 * sin_v[i];
          *p1 = x1 * cos_v[i] + x0 * sin_v[i];
        }
      }
    }
  });
}

}  // namespace eaq::kernels::cpu
