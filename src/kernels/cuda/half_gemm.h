// The prefill GEMM through cuBLASLt, its algorithm chosen for each shape by timing.
//
// Why: on the prefill's projection shapes at 512 tokens, cublasGemmEx's own pick (gemm_half) is
// not the fastest of the algorithms cuBLASLt offers for them: bench_prefill_gemm on an H100
// (2026-12-07) had the fastest candidate 7.5% under it on a DeepSeek-Coder-1.3B layer's four
// GEMMs and 14% on an R1-Distill-Qwen-1.5B layer's (up to 1.24x on one GEMM), 0.5% on a
// Llama-2-7B layer's. In the engine (same call): prefill-512 +1.4% (1.3B) and +4.6% (1.5B) from
// the tuning alone (EAQ_CUDA_GEMM_TUNE=0 against the default; docs/cuda.md).
//
// Which algorithms: the heuristic's candidates that do not split K (ALGO_CONFIG_SPLITK_NUM 1).
// Each output element is then one f32 accumulation over k, and every candidate measured wrote the
// same bits (bench_prefill_gemm checks each against cublasGemmEx's output: max |Δ| 0 for all of
// them in that run; HalfGemmCuda's test checks a shape's first and tuned choices bit for bit):
// the choice changes the time, not the result.
//
// When: the first call of a shape (dtypes, rows, cols, strides, tokens, operand alignment) times
// each candidate (2 runs, then 5 timed) into a scratch output of its own, allocated and freed
// around the tuning, so y — which may be accumulated into — is untouched; then remembers the
// fastest. Inside a stream capture it times nothing: the heuristic's first choice runs, and the
// shape is timed at its first call outside one. If the scratch cannot be allocated, the first
// choice stays.
// EAQ_CUDA_GEMM_TUNE=0 takes the heuristic's first choice always (A/B).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/dtype.h"

namespace eaq::kernels::cuda {

// A cuBLASLt algorithm's configuration value (ALGO_CONFIG_TILE_ID, _STAGES_ID, _SPLITK_NUM, ...);
// -1 where cuBLASLt does not report it.
int lt_algo_config(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attribute);

// The prefill matmul y[t][n] = sum_k x[t][k] W[n][k] as cuBLASLt describes it (column-major:
// y^T (rows x n_tokens) = W^T (stored cols x rows, row stride w_stride, transposed) x^T): the
// operation (f32 compute and scale) and the three layouts, destroyed with it. W and x in `dtype`
// (F16 or BF16), y f32 or f16 (y_dtype) with rows y_stride elements apart. HalfGemm's plans and
// bench_prefill_gemm's sweeps describe their GEMMs with it.
struct LtMatmulShape {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  LtMatmulShape(DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t w_stride, std::int64_t n_tokens,
                std::int64_t y_stride, DType y_dtype);
  ~LtMatmulShape();
  LtMatmulShape(const LtMatmulShape&) = delete;
  LtMatmulShape& operator=(const LtMatmulShape&) = delete;

 private:
  void release();  // destroys what exists (null handles skipped)
};

class HalfGemm {
 public:
  // Runs on `stream`; workspace (may be null with 0 bytes) is offered to every algorithm.
  HalfGemm(cudaStream_t stream, void* workspace, std::size_t workspace_bytes);
  ~HalfGemm();
  HalfGemm(const HalfGemm&) = delete;
  HalfGemm& operator=(const HalfGemm&) = delete;

  // y[t][n] = sum_k x[t][k] * W[n][k] for t < n_tokens, n < rows, as gemm_half (cublas_gemm.h):
  // W f16 or bf16 (`dtype`, row stride w_stride elements), x the same dtype [n_tokens][cols], y
  // row t at y + t * y_stride elements, f32 accumulation; y f32, or f16 (y_dtype F16: the f32 sums
  // rounded once); accumulate: y += instead of y = .
  void run(DType dtype, const void* w, std::int64_t rows, std::int64_t cols, std::int64_t w_stride, const void* x,
           std::int64_t n_tokens, void* y, std::int64_t y_stride, bool accumulate = false, DType y_dtype = DType::F32);

  // What the tuning picked, a line a shape (for benchmarks and logs).
  std::string describe() const;

 private:
  struct Plan;
  using Key = std::array<std::int64_t, 10>;
  Plan& plan_for(const Key& key, DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t w_stride,
                 std::int64_t n_tokens, std::int64_t y_stride, DType y_dtype, const std::array<std::uint32_t, 3>& align);
  void tune(Plan& plan, std::int64_t n_tokens, std::int64_t y_stride, const void* w, const void* x);

  cublasLtHandle_t handle_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  bool tune_ = true;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace eaq::kernels::cuda
