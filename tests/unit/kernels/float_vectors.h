// Seeded random float vectors, and the relative error of a result against its reference: what the
// kernel tests (kernel_test_inputs.h, decoder_ops_cuda_test.cpp, attention_cuda_test.cpp) and the
// CUDA small-kernel workbench (benchmarks/cuda/bench_decoder_ops.cpp) feed their kernels and compare
// them by. No gtest here, so the workbench can include it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace eaq::kernels::test {

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// max |got - ref| / max(1, max |ref|); infinity if any value of got is not finite.
inline double rel_error(const std::vector<float>& got, const std::vector<float>& ref) {
  double worst = 0, scale = 1;
  for (std::size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(ref[i])));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    worst = std::max(worst, static_cast<double>(std::fabs(got[i] - ref[i])));
  }
  return worst / scale;
}

}  // namespace eaq::kernels::test
