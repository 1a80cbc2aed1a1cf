// Rope frequencies, transcribing the formulas of HF modeling_rope_utils.py (default, linear,
// llama3, yarn) so that positions rotate exactly as the reference does.
#include "model/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace eaq::model {

RopeFrequencies compute_rope_frequencies(double theta, std::int64_t dim, const RopeScaling& s,
                                         const float* freq_factors) {
  if (dim <= 0 || dim % 2 != 0) fail("rotary dimension {} must be a positive even number", dim);
  if (!(theta > 0)) fail("rope theta {} must be positive", theta);
  RopeFrequencies out;
  const std::int64_t half = dim / 2;
  out.inv_freq.resize(half);
  // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
  for (std::int64_t i = 0; i < half; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    out.inv_freq[i] = 1.0f / std::pow(static_cast<float>(theta), exponent);
  }
  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kFreqFactors:
      if (freq_factors == nullptr) fail("rope scaling by frequency factors needs the rope_freqs tensor");
      for (std::int64_t i = 0; i < half; ++i) {
        if (!(freq_factors[i] > 0)) fail("rope_freqs[{}] = {} is not positive", i, freq_factors[i]);
        out.inv_freq[i] /= freq_factors[i];
      }
      break;
    case RopeScalingType::kLinear:
      if (!(s.factor > 0)) fail("linear rope scaling factor {} must be positive", s.factor);
      for (auto& f : out.inv_freq) f = f / static_cast<float>(s.factor);
      break;
    case RopeScalingType::kLlama3: {
      if (s.original_max_position_embeddings <= 0) {
        fail("llama3 rope scaling needs original_max_position_embeddings > 0");
      }
      const double old_ctx = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = old_ctx / s.low_freq_factor;
      const double high_freq_wavelen = old_ctx / s.high_freq_factor;
      for (auto& f : out.inv_freq) {
        const double wavelen = 2 * std::numbers::pi / f;
        float scaled = wavelen > low_freq_wavelen ? f / static_cast<float>(s.factor) : f;
        if (!(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen)) {
          const double smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          scaled = static_cast<float>((1 - smooth) * f / s.factor + smooth * f);
        }
        f = scaled;
      }
      break;
    }
    case RopeScalingType::kYarn: {
      if (s.original_max_position_embeddings <= 0) fail("yarn rope scaling needs original_max_position_embeddings > 0");
      const double base = theta;
      auto correction_dim = [&](double n_rotations) {
        return (dim * std::log(s.original_max_position_embeddings / (n_rotations * 2 * std::numbers::pi))) /
               (2 * std::log(base));
      };
      double low = std::max(0.0, std::floor(correction_dim(s.beta_fast)));
      double high = std::min(static_cast<double>(dim - 1), std::ceil(correction_dim(s.beta_slow)));
      if (low == high) high += 0.001;
      for (std::int64_t i = 0; i < half; ++i) {
        const float extrapolation = out.inv_freq[i];
        const float interpolation = extrapolation / static_cast<float>(s.factor);
        double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        double extrapolation_factor = 1.0 - ramp;
        out.inv_freq[i] = static_cast<float>(interpolation * (1 - extrapolation_factor) +
                                             extrapolation * extrapolation_factor);
      }
      out.attention_factor = static_cast<float>(
          s.attention_factor ? *s.attention_factor : (s.factor <= 1 ? 1.0 : 0.1 * std::log(s.factor) + 1.0));
      break;
    }
  }
  return out;
}

}  // namespace eaq::model
