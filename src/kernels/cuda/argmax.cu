// Greedy next token on the device: argmax over the logits (lowest index wins a tie, as the CPU
// sampler), then the step bookkeeping that lets a captured decode step feed the next replay.
#include <cfloat>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kThreads = 1024;

__global__ void argmax_next_token_kernel(const float* logits, int vocab, std::int32_t* token,
                                         std::int32_t* out_tokens, std::int32_t* step, std::int32_t* position) {
  __shared__ float best_value[kThreads];
  __shared__ int best_index[kThreads];
  pdl_launch_dependents();
  pdl_wait();
  float value = -FLT_MAX;
  int index = 0x7fffffff;
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = logits[i];
    if (v > value) {  // strided scan visits indices in increasing order: first max kept
      value = v;
      index = i;
    }
  }
  best_value[threadIdx.x] = value;
  best_index[threadIdx.x] = index;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width >>= 1) {
    if (threadIdx.x < width) {
      const float v = best_value[threadIdx.x + width];
      const int i = best_index[threadIdx.x + width];
      if (v > best_value[threadIdx.x] || (v == best_value[threadIdx.x] && i < best_index[threadIdx.x])) {
        best_value[threadIdx.x] = v;
        best_index[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const int chosen = best_index[0] == 0x7fffffff ? 0 : best_index[0];
    *token = chosen;
    if (out_tokens) out_tokens[*step] = chosen;
    *step += 1;
    *position += 1;
  }
}

}  // namespace

void argmax_next_token(const float* logits, int vocab, std::int32_t* token, std::int32_t* out_tokens,
                       std::int32_t* step, std::int32_t* position, cudaStream_t stream) {
  EAQ_CUDA_CHECK(
      launch_pdl(argmax_next_token_kernel, 1, kThreads, 0, stream, logits, vocab, token, out_tokens, step, position));
}

}  // namespace eaq::kernels::cuda
