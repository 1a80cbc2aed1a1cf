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
struct GemvEpilogue {
  const float* bias = nullptr;  // [rows], on the same side as y (device for gemv, host for gemv_on_host)
  bool accumulate = false;
  Gate gate = Gate::kNone;
};

}  // namespace eaq::kernels::cuda
