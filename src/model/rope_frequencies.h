// Rotary-embedding inverse frequencies with the scaling schemes of HF transformers'
// modeling_rope_utils (default, linear, llama3, yarn), computed as it does in float32.
#pragma once

#include <cstdint>
#include <vector>

namespace eaq::model {

enum class RopeScalingType { kNone, kLinear, kLlama3, kYarn };

struct RopeScalingParams {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 0;
  // yarn
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double attention_factor = 0.0;  // 0 = derived from factor (0.1 ln(factor) + 1)
};

struct RopeFrequencies {
  std::vector<float> inv_freq;  // rotary_dim / 2 entries
  float attention_factor = 1.0f;
};

RopeFrequencies compute_rope_frequencies(double theta, std::int64_t rotary_dim, const RopeScalingParams& scaling);

}  // namespace eaq::model
