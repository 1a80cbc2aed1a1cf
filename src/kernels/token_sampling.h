// How a token is picked from a row of logits — one definition for the CPU op (kernels/ops.h
// sample_token) and the CUDA one (kernels/cuda/decoder_ops.h sample_token), so that the two,
// given the same logits and the same uniform number, pick the same token. llama.cpp's chain:
//
//   1. repetition penalty on the given distinct ids: l > 0 ? l / p : l * p (CTRL);
//   2. candidates sorted by logit, descending, the lower id first on ties; greedy
//      (temperature <= 0) returns the first;
//   3. top-k keeps the first n = top_k (0 = all);
//   4. with e_i = exp(l_i - l_0) and C_i = e_0 + ... + e_i: top-p keeps up to the first i with
//      C_i / C_{n-1} >= top_p (probabilities at temperature 1, as llama.cpp);
//   5. min-p keeps the leading candidates with e_i >= min_p (p_i >= min_p * p_0);
//   6. the draw: w_i = exp((l_i - l_0) / temperature), W_i their running sum; the first i with
//      W_i > uniform * W_{n-1} (uniform in [0, 1)) is the token — inverse-CDF sampling, so one
//      uniform number a step decides it.
//
// Sums are in double. The backends add in different orders, so they can differ only where a
// running sum lands within rounding of a cut (top-p) or of the draw's target.
#pragma once

#include <cstdint>

namespace eaq::kernels {

struct TokenSampling {
  float temperature = 0.0f;         // <= 0: greedy
  std::int32_t top_k = 0;           // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  bool is_greedy() const { return temperature <= 0.0f; }
};

}  // namespace eaq::kernels
