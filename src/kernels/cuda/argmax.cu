// Greedy next token on the device: argmax over the logits (lowest index wins a tie, as the CPU
// sampler), then the step bookkeeping that lets a captured decode step feed the next replay.
#include "kernels/cuda/block_argmax.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kThreads = 1024;

__global__ void argmax_next_token_kernel(const float* logits, int vocab, std::int32_t* token,
                                         std::int32_t* out_tokens, std::int32_t* step, std::int32_t* position) {
  pdl_launch_dependents();
  pdl_wait();
  const int chosen = detail::block_argmax<kThreads>(logits, vocab);
  if (threadIdx.x == 0) {
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
