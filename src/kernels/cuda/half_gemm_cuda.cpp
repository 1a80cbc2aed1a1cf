// HalfGemm: row-major y = x W^T as cuBLASLt's column-major y^T (rows x T) = W (stored cols x rows,
// transposed) x^T (cols x T), the algorithm tuned per shape (half_gemm.h).
#include "kernels/cuda/half_gemm.h"

#include <fmt/format.h>

#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/env_switch.h"

namespace eaq::kernels::cuda {

namespace {

// Candidates asked of the heuristic; on the H100 it offered 8 for each prefill shape without a
// workspace (bench_prefill_gemm).
constexpr int kCandidates = 16;

// The largest power of two (at most 256, cuBLASLt's default assumption) dividing the address.
std::uint32_t alignment_of(const void* p) {
  const auto v = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t a = 256;
  while (a > 1 && v % a != 0) a /= 2;
  return a;
}

}  // namespace

int lt_algo_config(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attribute) {
  std::int32_t v = -1;
  std::size_t written = 0;
  if (cublasLtMatmulAlgoConfigGetAttribute(&algo, attribute, &v, sizeof(v), &written) != CUBLAS_STATUS_SUCCESS) return -1;
  return v;
}

LtMatmulShape::LtMatmulShape(DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t w_stride,
                             std::int64_t n_tokens, std::int64_t y_stride, DType y_dtype) {
  const cudaDataType_t type = dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  try {
    EAQ_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    EAQ_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
    EAQ_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
    EAQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a, type, static_cast<std::uint64_t>(cols),
                                                static_cast<std::uint64_t>(rows), w_stride));
    EAQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b, type, static_cast<std::uint64_t>(cols),
                                                static_cast<std::uint64_t>(n_tokens), cols));
    EAQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&c, y_dtype == DType::F16 ? CUDA_R_16F : CUDA_R_32F,
                                                static_cast<std::uint64_t>(rows),
                                                static_cast<std::uint64_t>(n_tokens), y_stride));
  } catch (...) {
    release();  // what was created so far
    throw;
  }
}

LtMatmulShape::~LtMatmulShape() { release(); }

void LtMatmulShape::release() {
  if (a) cublasLtMatrixLayoutDestroy(a);
  if (b) cublasLtMatrixLayoutDestroy(b);
  if (c) cublasLtMatrixLayoutDestroy(c);
  if (op) cublasLtMatmulDescDestroy(op);
  a = b = c = nullptr;
  op = nullptr;
}

struct HalfGemm::Plan {
  LtMatmulShape lt;
  std::vector<cublasLtMatmulAlgo_t> candidates;  // not splitting K; the heuristic's order
  std::vector<float> candidate_us;               // the tuning's times (empty: not tuned)
  std::size_t chosen = 0;
  bool tuned = false;
  std::size_t y_bytes = 4;  // an output element's
  std::string shape;
  Plan(DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t w_stride, std::int64_t n_tokens,
       std::int64_t y_stride, DType y_dtype)
      : lt(dtype, rows, cols, w_stride, n_tokens, y_stride, y_dtype) {}
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
};

HalfGemm::HalfGemm(cudaStream_t stream, void* workspace, std::size_t workspace_bytes)
    : stream_(stream), workspace_(workspace), workspace_bytes_(workspace == nullptr ? 0 : workspace_bytes) {
  tune_ = env_switch("EAQ_CUDA_GEMM_TUNE", true, "1: the prefill GEMMs' algorithm chosen by timing");
  EAQ_CUBLAS_CHECK(cublasLtCreate(&handle_));
}

HalfGemm::~HalfGemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(handle_);
}

HalfGemm::Plan& HalfGemm::plan_for(const Key& key, DType dtype, std::int64_t rows, std::int64_t cols,
                                   std::int64_t w_stride, std::int64_t n_tokens, std::int64_t y_stride,
                                   DType y_dtype, const std::array<std::uint32_t, 3>& align) {
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
  auto plan = std::make_unique<Plan>(dtype, rows, cols, w_stride, n_tokens, y_stride, y_dtype);
  cublasLtMatmulPreference_t pref = nullptr;
  EAQ_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  std::vector<cublasLtMatmulHeuristicResult_t> results(kCandidates);
  int found = 0;
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  {
    const std::uint64_t ws = workspace_bytes_;
    const std::uint32_t aw = align[0], ax = align[1], ay = align[2];
    for (auto [attribute, value, size] :
         {std::tuple{CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, static_cast<const void*>(&ws), sizeof(ws)},
          std::tuple{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, static_cast<const void*>(&aw), sizeof(aw)},
          std::tuple{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, static_cast<const void*>(&ax), sizeof(ax)},
          std::tuple{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, static_cast<const void*>(&ay), sizeof(ay)},
          std::tuple{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, static_cast<const void*>(&ay), sizeof(ay)}}) {
      if (status == CUBLAS_STATUS_SUCCESS) status = cublasLtMatmulPreferenceSetAttribute(pref, attribute, value, size);
    }
  }
  if (status == CUBLAS_STATUS_SUCCESS) {
    status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->lt.op, plan->lt.a, plan->lt.b, plan->lt.c, plan->lt.c, pref, kCandidates,
                                            results.data(), &found);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  if (status != CUBLAS_STATUS_SUCCESS && status != CUBLAS_STATUS_NOT_SUPPORTED) {
    throw_cublas_error(status, "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__);
  }
  for (int i = 0; i < found; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    if (r.state != CUBLAS_STATUS_SUCCESS || lt_algo_config(r.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM) > 1) continue;
    plan->candidates.push_back(r.algo);
  }
  plan->shape = fmt::format("{} {}x{} (w stride {}) by {} tokens (y {}, stride {}; alignment w/x/y {}/{}/{} B)",
                            dtype == DType::BF16 ? "bf16" : "f16", rows, cols, w_stride, n_tokens,
                            y_dtype == DType::F16 ? "f16" : "f32", y_stride, align[0], align[1], align[2]);
  plan->y_bytes = y_dtype == DType::F16 ? 2 : 4;
  if (plan->candidates.empty()) {
    fail("cuBLASLt offers no algorithm for the prefill GEMM {} that does not split K (of {} candidates); "
         "the f16/bf16 prefill needs one",
         plan->shape, found);
  }
  Plan& ref = *plan;
  plans_.emplace(key, std::move(plan));
  return ref;
}

void HalfGemm::tune(Plan& plan, std::int64_t n_tokens, std::int64_t y_stride, const void* w, const void* x) {
  plan.candidate_us.assign(plan.candidates.size(), std::numeric_limits<float>::infinity());
  if (plan.candidates.size() < 2) return;
  void* scratch = nullptr;
  if (cudaMalloc(&scratch, static_cast<std::size_t>(n_tokens * y_stride) * plan.y_bytes) != cudaSuccess) {
    (void)cudaGetLastError();  // no room to time in: the heuristic's first choice stays
    return;
  }
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  EAQ_CUDA_CHECK(cudaEventCreate(&e0));
  EAQ_CUDA_CHECK(cudaEventCreate(&e1));
  const float alpha = 1.0f, beta = 0.0f;
  float best = std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < plan.candidates.size(); ++i) {
    auto call = [&] {
      return cublasLtMatmul(handle_, plan.lt.op, &alpha, w, plan.lt.a, x, plan.lt.b, &beta, scratch, plan.lt.c, scratch, plan.lt.c,
                            &plan.candidates[i], workspace_, workspace_bytes_, stream_);
    };
    if (call() != CUBLAS_STATUS_SUCCESS || call() != CUBLAS_STATUS_SUCCESS) continue;
    EAQ_CUDA_CHECK(cudaEventRecord(e0, stream_));
    constexpr int kReps = 5;
    bool ok = true;
    for (int r = 0; r < kReps && ok; ++r) ok = call() == CUBLAS_STATUS_SUCCESS;
    EAQ_CUDA_CHECK(cudaEventRecord(e1, stream_));
    EAQ_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0.0f;
    EAQ_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    if (!ok) continue;
    plan.candidate_us[i] = ms * 1e3f / kReps;
    if (plan.candidate_us[i] < best) {
      best = plan.candidate_us[i];
      plan.chosen = i;
    }
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  EAQ_CUDA_CHECK(cudaFree(scratch));
}

void HalfGemm::run(DType dtype, const void* w, std::int64_t rows, std::int64_t cols, std::int64_t w_stride,
                   const void* x, std::int64_t n_tokens, void* y, std::int64_t y_stride, bool accumulate,
                   DType y_dtype) {
  EAQ_CHECK(dtype == DType::F16 || dtype == DType::BF16, "HalfGemm takes f16 or bf16");
  EAQ_CHECK(y_dtype == DType::F32 || y_dtype == DType::F16, "HalfGemm writes f32 or f16");
  const std::array<std::uint32_t, 3> align{alignment_of(w), alignment_of(x), alignment_of(y)};
  const Key key{static_cast<std::int64_t>(dtype), rows,     cols,     w_stride, n_tokens,
                y_stride, static_cast<std::int64_t>(y_dtype), align[0], align[1], align[2]};
  Plan& plan = plan_for(key, dtype, rows, cols, w_stride, n_tokens, y_stride, y_dtype, align);
  if (tune_ && !plan.tuned) {
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    EAQ_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capture));
    // Inside a capture the heuristic's first choice runs; the shape is timed on a later call.
    if (capture == cudaStreamCaptureStatusNone) {
      tune(plan, n_tokens, y_stride, w, x);
      plan.tuned = true;
    }
  }
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  EAQ_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.lt.op, &alpha, w, plan.lt.a, x, plan.lt.b, &beta, y, plan.lt.c, y, plan.lt.c,
                                  &plan.candidates[plan.chosen], workspace_, workspace_bytes_, stream_));
}

std::string HalfGemm::describe() const {
  std::string out;
  for (const auto& [key, plan] : plans_) {
    const cublasLtMatmulAlgo_t& algo = plan->candidates[plan->chosen];
    out += fmt::format("{}: candidate {} of {} (tile {}, stages {})", plan->shape, plan->chosen, plan->candidates.size(),
                       lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_TILE_ID),
                       lt_algo_config(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID));
    if (!plan->candidate_us.empty()) {
      out += ", us:";
      for (float us : plan->candidate_us) out += fmt::format(" {:.1f}", us);
    }
    out += "\n";
  }
  return out;
}

}  // namespace eaq::kernels::cuda
