// ggml's reference numerics for the GGUF legacy block formats: a matmul on Q8_0 / Q4_0 / Q4_1
// weights first quantizes each activation row into 8-bit blocks of 32 (Q8_0; Q8_1 — which also
// carries d·Σq — for Q4_1), then sums integer products per block and scales them by the two f16
// block scales (ggml-quants.c: quantize_row_q8_0_ref / quantize_row_q8_1_ref,
// ggml_vec_dot_q4_0_q8_0 / q4_1_q8_1 / q8_0_q8_0). The opt-in `--activations q8`: the W4A8 / W8A8
// numerics of GGUF runtimes, beside eaq's default of f32 activations (which equals transformers on
// the dequantized weights). Measured against llama-cpp-python 0.3.36 on SmolLM2 (2026-12-04): at
// the first position the logit noise equals llama.cpp's (correlation 0.9999999995); later
// positions differ (mean KL ~3.5e-3), as llama.cpp's own batched and token-by-token paths differ
// from each other (~2e-3) — its batched kernels do not follow the reference per-row path.
// Written for clarity: plain loops the compiler vectorises, not the SIMD fast path of
// matmul_packed_cpu.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

namespace {

constexpr std::size_t kBlock = 32;

// One activation block: the f16 scale (as llama.cpp stores it), 32 int8 codes, and for Q8_1 the
// f16 of d·Σq.
struct ActivationBlock {
  float d = 0.0f;
  float s = 0.0f;
  std::int8_t q[kBlock];
};

// quantize_row_q8_0_ref / quantize_row_q8_1_ref: d = absmax/127, q = round(x/d) (half away from
// zero), d stored as f16; s = f16(Σq · d) with the unrounded d.
void quantize_block(const float* x, ActivationBlock& b) {
  float amax = 0.0f;
  for (std::size_t j = 0; j < kBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  int sum = 0;
  for (std::size_t j = 0; j < kBlock; ++j) {
    b.q[j] = static_cast<std::int8_t>(std::roundf(x[j] * id));
    sum += b.q[j];
  }
  b.d = f16_to_f32(f32_to_f16(d));
  b.s = f16_to_f32(f32_to_f16(static_cast<float>(sum) * d));
}

float f16_at(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Σ over one weight row's blocks of the integer block dot products, scaled as llama.cpp does.
float dot_row(DType dtype, const std::uint8_t* row, const ActivationBlock* a, std::size_t n_blocks) {
  float sum = 0.0f;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const ActivationBlock& x = a[b];
    int sumi = 0;
    switch (dtype) {
      case DType::Q8_0: {
        const std::uint8_t* blk = row + b * sizeof(block_q8_0);
        const auto* qs = reinterpret_cast<const std::int8_t*>(blk + offsetof(block_q8_0, qs));
        for (std::size_t j = 0; j < kBlock; ++j) sumi += qs[j] * x.q[j];
        sum += static_cast<float>(sumi) * (f16_at(blk) * x.d);
        break;
      }
      case DType::Q4_0: {
        const std::uint8_t* blk = row + b * sizeof(block_q4_0);
        const std::uint8_t* qs = blk + offsetof(block_q4_0, qs);
        for (std::size_t j = 0; j < kBlock / 2; ++j) {
          sumi += ((qs[j] & 0x0F) - 8) * x.q[j] + ((qs[j] >> 4) - 8) * x.q[j + kBlock / 2];
        }
        sum += static_cast<float>(sumi) * (f16_at(blk) * x.d);
        break;
      }
      case DType::Q4_1: {
        const std::uint8_t* blk = row + b * sizeof(block_q4_1);
        const std::uint8_t* qs = blk + offsetof(block_q4_1, qs);
        for (std::size_t j = 0; j < kBlock / 2; ++j) {
          sumi += (qs[j] & 0x0F) * x.q[j] + (qs[j] >> 4) * x.q[j + kBlock / 2];
        }
        sum += (f16_at(blk) * x.d) * static_cast<float>(sumi) + f16_at(blk + offsetof(block_q4_1, m)) * x.s;
        break;
      }
      default:
        break;  // has_block_activation_kernel() keeps other dtypes away
    }
  }
  return sum;
}

}  // namespace

bool has_block_activation_kernel(DType dtype) {
  return dtype == DType::Q8_0 || dtype == DType::Q4_0 || dtype == DType::Q4_1;
}

void matmul_block_activations(ThreadPool& pool, const float* x, std::int64_t m_signed, const WeightRef& w,
                              const float* bias, float* y) {
  const auto m = static_cast<std::size_t>(m_signed), n = static_cast<std::size_t>(w.rows),
             k = static_cast<std::size_t>(w.cols);
  const std::size_t n_blocks = k / kBlock;  // row_bytes() already refused a k that is not a multiple
  std::vector<ActivationBlock> blocks(m * n_blocks);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t b = 0; b < n_blocks; ++b) quantize_block(x + i * k + b * kBlock, blocks[i * n_blocks + b]);
  }
  pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t row = begin; row < end; ++row) {
      const auto* bytes = static_cast<const std::uint8_t*>(w.data) + row * w.row_stride_bytes;
      for (std::size_t i = 0; i < m; ++i) {
        y[i * n + row] = dot_row(w.dtype, bytes, blocks.data() + i * n_blocks, n_blocks) +
                         (bias != nullptr ? bias[row] : 0.0f);
      }
    }
  });
}

}  // namespace eaq::kernels::cpu
