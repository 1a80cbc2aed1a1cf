// What the decode GEMV does with each output besides writing the dot product: add a bias (qwen2's
// q/k/v), and/or add to what y already holds (a residual stream), so those take no extra kernel.
#pragma once

namespace eaq::kernels::cuda {

// y[b][n] = (accumulate ? y[b][n] : 0) + sum_k x[b][k] * W[n][k] + (bias ? bias[n] : 0)
struct GemvEpilogue {
  const float* bias = nullptr;  // [rows], on the same side as y (device for gemv, host for gemv_on_host)
  bool accumulate = false;
};

}  // namespace eaq::kernels::cuda
