// The published shapes of the models the CUDA benchmarks stand in for (random weights), and their
// layers' projection GEMMs as the engine runs them (q|k|v and gate|up fused). Shared by
// bench_engine_cuda and bench_prefill_gemm.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace eaq::bench {

struct Shape {
  std::string name;
  std::string architecture;
  std::int64_t hidden, inter, layers, heads, kv_heads, vocab;
  double rope_theta;
  bool qkv_bias;
};

inline const std::vector<Shape>& shapes() {
  static const std::vector<Shape> table = {
      {"llama2-7b", "llama", 4096, 11008, 32, 32, 32, 32000, 10000.0, false},
      {"deepseek-coder-1.3b", "llama", 2048, 5504, 24, 16, 16, 32256, 100000.0, false},
      {"r1-distill-qwen-1.5b", "qwen2", 1536, 8960, 28, 12, 2, 151936, 10000.0, true},
  };
  return table;
}

// One projection of a layer: y[t][n] = x[t][k] · W[n][k]^T.
struct ProjectionGemm {
  const char* what;
  std::int64_t n, k;
};

inline std::array<ProjectionGemm, 4> projection_gemms(const Shape& s) {
  const std::int64_t hd = s.hidden / s.heads;
  return {{{"q|k|v", (s.heads + 2 * s.kv_heads) * hd, s.hidden},
           {"o", s.hidden, s.heads * hd},
           {"gate|up", 2 * s.inter, s.hidden},
           {"down", s.hidden, s.inter}}};
}

// Multiply-adds of a layer's projections for one token (its weight count).
inline double projection_params(const Shape& s) {
  double params = 0.0;
  for (const ProjectionGemm& g : projection_gemms(s)) params += static_cast<double>(g.n) * g.k;
  return params;
}

}  // namespace eaq::bench
