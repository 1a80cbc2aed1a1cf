// ggml's reference numerics for the GGUF legacy block formats: a matmul on Q8_0 / Q4_0 / Q4_1
// weights first quantizes each activation row into 8-bit blocks of 32 (Q8_0; Q8_1 — which also
// carries d·Σq — for Q4_1), then sums integer products per block and scales them by the two f16
// block scales (ggml-quants.c: quantize_row_q8_0_ref / quantize_row_q8_1_ref,
// ggml_vec_dot_q4_0_q8_0 / q4_1_q8_1 / q8_0_q8_0). The opt-in `--activations q8`: the W4A8 / W8A8
// numerics of GGUF runtimes, beside eaq's default of f32 activations (which equals transformers on
// the dequantized weights). Measured against llama-cpp-python 0.3.36 on SmolLM2 (2026-12-05): the
// first position comes to KL 4.5e-4 from llama.cpp (f32 activations: 6.5e-3), the mean over 512
// positions stays ~3e-3 — as far as llama.cpp's own batched and token-by-token runs are apart
// (2.8e-3): 8-bit-activation results change with sub-ulp f32 rounding
// (tools/q8_activation_sensitivity.py), so only bit-identical kernels would agree.
// Written for clarity: plain loops the compiler vectorises, not the SIMD fast path of
// matmul_packed_cpu.cpp.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_legacy_blocks.h"
#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels::cpu {

namespace {

constexpr std::size_t kBlock = 32;

// One activation block: Q8_0 (core's reference quantizer: d = absmax/127 as f16, q = round(x/d))
// and, for Q8_1, s = f16(Σq · d) with the unrounded d, as quantize_row_q8_1_ref stores it.
struct ActivationBlock {
  block_q8_0 q8;
  float d = 0.0f;  // q8.d as f32
  float s = 0.0f;
};

void quantize_activation_row(const float* x, std::size_t k, ActivationBlock* out) {
  std::vector<block_q8_0> blocks(k / kBlock);
  try {
    quantize_row_q8_0(x, blocks.data(), k);
  } catch (const Error&) {
    fail("--activations q8: an activation row of {} values holds inf or NaN (the model's forward pass overflowed); "
         "run with --activations f32 to see the f32 result",
         k);
  }
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    ActivationBlock& a = out[b];
    a.q8 = blocks[b];
    a.d = f16_to_f32(a.q8.d);
    float amax = 0.0f;
    int sum = 0;
    for (std::size_t j = 0; j < kBlock; ++j) {
      amax = std::fmax(amax, std::fabs(x[b * kBlock + j]));
      sum += a.q8.qs[j];
    }
    a.s = f16_to_f32(f32_to_f16(static_cast<float>(sum) * (amax / 127.0f)));
  }
}

float f16_at(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Σ_j (nibble_j - offset) · q_j over a 32-value q4_0-layout block (element j in the low nibble of
// byte j, element j + 16 in its high nibble).
int nibble_dot(const std::uint8_t* qs, const std::int8_t* q, int offset) {
  int sum = 0;
  for (std::size_t j = 0; j < kBlock / 2; ++j) {
    sum += ((qs[j] & 0x0F) - offset) * q[j] + ((qs[j] >> 4) - offset) * q[j + kBlock / 2];
  }
  return sum;
}

// Σ over one weight row's blocks of the integer block dot products, scaled as ggml's vec_dot does.
float dot_row(DType dtype, const std::uint8_t* row, const ActivationBlock* a, std::size_t n_blocks) {
  float sum = 0.0f;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const ActivationBlock& x = a[b];
    switch (dtype) {
      case DType::Q8_0: {
        const std::uint8_t* blk = row + b * sizeof(block_q8_0);
        const auto* qs = reinterpret_cast<const std::int8_t*>(blk + offsetof(block_q8_0, qs));
        int sumi = 0;
        for (std::size_t j = 0; j < kBlock; ++j) sumi += qs[j] * x.q8.qs[j];
        sum += static_cast<float>(sumi) * (f16_at(blk) * x.d);
        break;
      }
      case DType::Q4_0: {
        const std::uint8_t* blk = row + b * sizeof(block_q4_0);
        const int sumi = nibble_dot(blk + offsetof(block_q4_0, qs), x.q8.qs, 8);
        sum += static_cast<float>(sumi) * (f16_at(blk) * x.d);
        break;
      }
      case DType::Q4_1: {
        const std::uint8_t* blk = row + b * sizeof(block_q4_1);
        const int sumi = nibble_dot(blk + offsetof(block_q4_1, qs), x.q8.qs, 0);
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
  for (std::size_t i = 0; i < m; ++i) quantize_activation_row(x + i * k, k, blocks.data() + i * n_blocks);
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
