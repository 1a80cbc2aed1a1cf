// NF4 quantizer (bitsandbytes' blockwise 4-bit NormalFloat, blocksize 64): absmax per block in
// f32, each weight / absmax mapped to the nearest of the 16 code values (bitsandbytes'
// quantize_blockwise does the same with a tree of midpoints).
#include <algorithm>
#include <cmath>

#include "core/eaq_quant_blocks.h"
#include "core/error.h"
#include "quant/weight_quantizers.h"

namespace eaq::quant {

void quantize_row_nf4(const float* src, void* dst, std::size_t n) {
  if (n % kQKNf4 != 0) fail("nf4: a row of {} weights is not a multiple of the block size 64", n);
  check_finite(src, n, "nf4 quantizer");
  auto* blocks = static_cast<block_nf4*>(dst);
  std::uint8_t q[kQKNf4];
  for (std::size_t b = 0; b < n / kQKNf4; ++b) {
    const float* x = src + b * kQKNf4;
    float absmax = 0.0f;
    for (int i = 0; i < kQKNf4; ++i) absmax = std::max(absmax, std::fabs(x[i]));
    for (int i = 0; i < kQKNf4; ++i) {
      const float v = absmax != 0.0f ? x[i] / absmax : 0.0f;  // not * 1/absmax: a denormal's reciprocal overflows
      int best = 0;
      for (int c = 1; c < 16; ++c) {
        if (std::fabs(v - kNf4Codebook[c]) < std::fabs(v - kNf4Codebook[best])) best = c;
      }
      q[i] = static_cast<std::uint8_t>(best);
    }
    blocks[b].absmax = absmax;
    for (int c = 0; c < kQKNf4 / 32; ++c) {
      for (int j = 0; j < 16; ++j) {
        blocks[b].qs[c * 16 + j] = static_cast<std::uint8_t>(q[c * 32 + j] | (q[c * 32 + j + 16] << 4));
      }
    }
  }
}

}  // namespace eaq::quant
