// What the decode GEMV does with each output besides writing the dot product: add a bias (qwen2's
// q/k/v), and/or add to what y already holds (a residual stream), or apply the gated activation to
// a gate|up matrix's pairs of rows, so those take no extra kernel.
#pragma once

namespace eaq::kernels::cuda {

// The activation of a gated GEMV (GemvEpilogue::gate, HalfMatvecFusion::gate): silu (SwiGLU) or
// gelu-tanh (GeGLU), as in gated_activation().
enum class Gate { kNone, kSilu, kGeluTanh };

// y[b][n] = (accumulate ? y[b][n] : 0) + sum_k x[b][k] * W[n][k] + (bias ? bias[n] : 0), or with
// `gate`: rows [0, rows / 2) are the gate, the rest the up projection, and
// y[b][j] = act(sum_k x[b][k] W[j][k]) * sum_k x[b][k] W[rows / 2 + j][k] for j < rows / 2 (y holds
// rows / 2 values a batch row; no bias or accumulation then).
// With norm_weight, x[b] is first normalised as add_rms_norm does it (x / rms(x) * (norm_weight +
// norm_offset), rms with norm_eps; x itself is not written): the tensor-core tiles' cluster kernel
// only (gemv_supports_norm).
struct GemvEpilogue {
  const float* bias = nullptr;  // [rows], on the same side as y (device for gemv, host for gemv_on_host)
  bool accumulate = false;
  Gate gate = Gate::kNone;
  const float* norm_weight = nullptr;  // [cols], device
  float norm_offset = 0.0f;
  float norm_eps = 0.0f;
};

}  // namespace eaq::kernels::cuda
