// GPU token sampling: kernels/token_sampling.h's chain, the twin of the CPU op
// (kernels/cpu/sampling_cpu.cpp), so that only the picked token leaves the device.
//
//   candidates_kernel   keys = logits (+ 0.0f: -0 sorts as +0, as the CPU's comparison has it),
//                       values = ids; penalize_kernel applies the repetition penalty to the listed ids;
//   greedy              argmax_kernel over the keys (lowest id on ties);
//   otherwise           CUB's radix sort of the (key, id) pairs, descending and stable (ties keep
//                       the lower id first), then on the first n0 = top-k (or all):
//                       exp_kernel + CUB inclusive sum: the running sums C_i of exp(l_i - l_0);
//                       cut_kernel: top-p and min-p by binary search (both tests are monotone in i);
//                       exp_kernel + inclusive sum of exp((l_i - l_0) / T), and draw_kernel: the
//                       first running sum > uniform * total.
// Sums are in double, as on the CPU; only the order of addition differs. Not captured in the
// decode graph: its launches take this step's penalty list and uniform number as arguments.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>

#include "kernels/cuda/block_argmax.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"

namespace eaq::kernels::cuda {

namespace {

using detail::block_argmax;

constexpr int kThreads = 256;
constexpr int kArgmaxThreads = 1024;
constexpr std::size_t kAlign = 256;

std::size_t aligned(std::size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Where each array sits in the caller's workspace.
struct Layout {
  std::size_t keys_in = 0, keys_out = 0, ids_in = 0, ids_out = 0, weights = 0, cumulative = 0, count = 0;
  std::size_t cub_temp = 0, cub_temp_bytes = 0, total = 0;
};

Layout layout_for(int vocab) {
  std::size_t sort_bytes = 0, scan_bytes = 0;
  EAQ_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(nullptr, sort_bytes, static_cast<const float*>(nullptr),
                                                           static_cast<float*>(nullptr), static_cast<const int*>(nullptr),
                                                           static_cast<int*>(nullptr), vocab));
  EAQ_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, static_cast<const double*>(nullptr),
                                               static_cast<double*>(nullptr), vocab));
  const auto n = static_cast<std::size_t>(vocab);
  Layout l;
  std::size_t at = 0;
  auto take = [&](std::size_t bytes) {
    const std::size_t offset = at;
    at += aligned(bytes);
    return offset;
  };
  l.keys_in = take(n * sizeof(float));
  l.keys_out = take(n * sizeof(float));
  l.ids_in = take(n * sizeof(int));
  l.ids_out = take(n * sizeof(int));
  l.weights = take(n * sizeof(double));
  l.cumulative = take(n * sizeof(double));
  l.count = take(sizeof(int));
  l.cub_temp_bytes = std::max(sort_bytes, scan_bytes);
  l.cub_temp = take(l.cub_temp_bytes);
  l.total = at;
  return l;
}

unsigned blocks_for(long long n) { return static_cast<unsigned>(std::min<long long>((n + kThreads - 1) / kThreads, 4096)); }

__global__ void candidates_kernel(const float* logits, int vocab, float* keys, int* ids) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < vocab; i += gridDim.x * blockDim.x) {
    keys[i] = logits[i] + 0.0f;
    ids[i] = i;
  }
}

__global__ void penalize_kernel(const std::int32_t* penalized, int n, float penalty, float* keys) {
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
    const float l = keys[penalized[j]];  // distinct ids: no two threads touch one key
    keys[penalized[j]] = (l > 0 ? l / penalty : l * penalty) + 0.0f;
  }
}

__global__ void argmax_kernel(const float* keys, int vocab, std::int32_t* token) {
  const int chosen = block_argmax<kArgmaxThreads>(keys, vocab);
  if (threadIdx.x == 0) *token = chosen;
}

// weights[i] = exp((keys[i] - keys[0]) / temperature), i < n; keys sorted descending.
__global__ void exp_kernel(const float* keys, int n, double temperature, double* weights) {
  const double top = keys[0];
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    weights[i] = exp((static_cast<double>(keys[i]) - top) / temperature);
  }
}

// First i in [lo, hi) where pred(i) holds, pred monotone (false ... false true ... true); hi if none.
template <typename Pred>
__device__ int first_true(int lo, int hi, Pred pred) {
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// *count = the candidates top-p and min-p keep of the first n0 (weights: exp(l_i - l_0),
// cumulative: their running sums, filled when top_p < 1).
__global__ void cut_kernel(const double* weights, const double* cumulative, int n0, float top_p, float min_p, int* count) {
  int n = n0;
  if (top_p < 1.0f) {
    const double sum = cumulative[n0 - 1];
    const int i = first_true(0, n0, [&](int k) { return cumulative[k] / sum >= static_cast<double>(top_p); });
    if (i < n0) n = i + 1;
  }
  if (min_p > 0.0f) n = first_true(1, n, [&](int k) { return weights[k] < static_cast<double>(min_p); });
  *count = n;
}

// *token = ids[first i < n with cumulative[i] > uniform * cumulative[n - 1]] (n - 1 if none),
// n = *count, or n0 when count is null.
__global__ void draw_kernel(const double* cumulative, const int* ids, int n0, const int* count, double uniform,
                            std::int32_t* token) {
  const int n = count ? *count : n0;
  const double target = uniform * cumulative[n - 1];
  const int i = first_true(0, n, [&](int k) { return cumulative[k] > target; });
  *token = ids[min(i, n - 1)];
}

}  // namespace

std::size_t sample_token_workspace_bytes(int vocab) {
  if (vocab <= 0) fail("sample_token: a logits row of length {}", vocab);
  return layout_for(vocab).total;
}

void sample_token(const float* logits, int vocab, const TokenSampling& sampling, const std::int32_t* penalized,
                  int n_penalized, double uniform, void* workspace, std::size_t workspace_bytes, std::int32_t* token,
                  cudaStream_t stream) {
  if (vocab <= 0) fail("sample_token: a logits row of length {}", vocab);
  if (!(uniform >= 0.0 && uniform < 1.0)) fail("sample_token: the draw's uniform number {} is outside [0, 1)", uniform);
  if (!(sampling.repetition_penalty > 0.0f)) fail("sample_token: repetition penalty {} is not positive", sampling.repetition_penalty);
  const Layout l = layout_for(vocab);
  if (workspace_bytes < l.total) {
    fail("sample_token: a workspace of {} bytes is smaller than the {} a vocabulary of {} needs", workspace_bytes, l.total, vocab);
  }
  auto* base = static_cast<unsigned char*>(workspace);
  auto* keys_in = reinterpret_cast<float*>(base + l.keys_in);
  auto* keys_out = reinterpret_cast<float*>(base + l.keys_out);
  auto* ids_in = reinterpret_cast<int*>(base + l.ids_in);
  auto* ids_out = reinterpret_cast<int*>(base + l.ids_out);
  auto* weights = reinterpret_cast<double*>(base + l.weights);
  auto* cumulative = reinterpret_cast<double*>(base + l.cumulative);
  auto* count = reinterpret_cast<int*>(base + l.count);
  void* cub_temp = base + l.cub_temp;

  candidates_kernel<<<blocks_for(vocab), kThreads, 0, stream>>>(logits, vocab, keys_in, ids_in);
  EAQ_CUDA_CHECK(cudaGetLastError());
  if (sampling.repetition_penalty != 1.0f && n_penalized > 0) {
    penalize_kernel<<<blocks_for(n_penalized), kThreads, 0, stream>>>(penalized, n_penalized,
                                                                      sampling.repetition_penalty, keys_in);
    EAQ_CUDA_CHECK(cudaGetLastError());
  }
  if (sampling.is_greedy()) {
    argmax_kernel<<<1, kArgmaxThreads, 0, stream>>>(keys_in, vocab, token);
    EAQ_CUDA_CHECK(cudaGetLastError());
    return;
  }
  std::size_t temp_bytes = l.cub_temp_bytes;
  EAQ_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(cub_temp, temp_bytes, keys_in, keys_out, ids_in, ids_out,
                                                           vocab, 0, 32, stream));
  const int n0 = sampling.top_k > 0 && sampling.top_k < vocab ? sampling.top_k : vocab;
  const bool cut = sampling.top_p < 1.0f || sampling.min_p > 0.0f;
  if (cut) {
    exp_kernel<<<blocks_for(n0), kThreads, 0, stream>>>(keys_out, n0, 1.0, weights);
    EAQ_CUDA_CHECK(cudaGetLastError());
    if (sampling.top_p < 1.0f) {
      temp_bytes = l.cub_temp_bytes;
      EAQ_CUDA_CHECK(cub::DeviceScan::InclusiveSum(cub_temp, temp_bytes, weights, cumulative, n0, stream));
    }
    cut_kernel<<<1, 1, 0, stream>>>(weights, cumulative, n0, sampling.top_p, sampling.min_p, count);
    EAQ_CUDA_CHECK(cudaGetLastError());
  }
  exp_kernel<<<blocks_for(n0), kThreads, 0, stream>>>(keys_out, n0, sampling.temperature, weights);
  EAQ_CUDA_CHECK(cudaGetLastError());
  temp_bytes = l.cub_temp_bytes;
  EAQ_CUDA_CHECK(cub::DeviceScan::InclusiveSum(cub_temp, temp_bytes, weights, cumulative, n0, stream));
  draw_kernel<<<1, 1, 0, stream>>>(cumulative, ids_out, n0, cut ? count : nullptr, uniform, token);
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
