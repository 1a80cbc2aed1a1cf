// Rotary-embedding inverse frequencies with the scaling schemes of HF transformers'
// modeling_rope_utils (default, linear, llama3, yarn), computed as it does in float32.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace eaq::model {

struct RopeFrequencies {
  std::vector<float> inv_freq;  // rotary_dim / 2 entries
  float attention_factor = 1.0f;
};

// freq_factors: the per-frequency divisors of RopeScalingType::kFreqFactors (GGUF rope_freqs),
// rotary_dim/2 entries; ignored for other types.
RopeFrequencies compute_rope_frequencies(double theta, std::int64_t rotary_dim, const RopeScaling& scaling,
                                         const float* freq_factors = nullptr);

}  // namespace eaq::model
