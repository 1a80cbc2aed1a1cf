// GPU token sampling (kernels/cuda/decoder_ops.h sample_token) against the CPU op
// (kernels::sample_token) on the same logits, penalty list and uniform numbers: the same token.
// Vocabularies of 1000, 32000 (Llama-2) and 151936 (Qwen2) tokens; logits uniform in [-8, 8] and,
// for the tie order, rounded to 1/16 (thousands of exact ties, -0 beside +0); greedy with and
// without the penalty, temperature alone, top-k, top-p and min-p alone, llama.cpp's default chain
// (top-k 40, top-p 0.95, min-p 0.05, temperature 0.8, penalty 1.1), top-k larger than the
// vocabulary. The two add their double sums in different orders, so a draw whose target or top-p
// cut lies within 1e-9 (relative) of a running sum may differ: such cases are found on the CPU
// (perturbing u and top-p) and left out, and must be rare (< 5%). Skips without a GPU.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/ops.h"
#include "cuda_test_buffers.h"
#include "float_vectors.h"

namespace eaq::kernels::cuda {
namespace {

using test::have_gpu;

struct Case {
  const char* name;
  TokenSampling sampling;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](const char* name, float temperature, int top_k, float top_p, float min_p, float penalty) {
    TokenSampling s;
    s.temperature = temperature;
    s.top_k = top_k;
    s.top_p = top_p;
    s.min_p = min_p;
    s.repetition_penalty = penalty;
    out.push_back({name, s});
  };
  add("greedy", 0.0f, 0, 1.0f, 0.0f, 1.0f);
  add("greedy + penalty 1.5", 0.0f, 0, 1.0f, 0.0f, 1.5f);
  add("temperature 0.8", 0.8f, 0, 1.0f, 0.0f, 1.0f);
  add("top-k 40", 1.0f, 40, 1.0f, 0.0f, 1.0f);
  add("top-p 0.9", 1.0f, 0, 0.9f, 0.0f, 1.0f);
  add("min-p 0.1", 1.0f, 0, 1.0f, 0.1f, 1.0f);
  add("llama.cpp defaults", 0.8f, 40, 0.95f, 0.05f, 1.1f);
  add("top-k past the vocabulary", 1.2f, 1 << 20, 0.5f, 0.0f, 1.0f);
  return out;
}

std::int32_t cpu_pick(const std::vector<float>& logits, const TokenSampling& s, const std::vector<std::int32_t>& penalized,
                      double u) {
  std::vector<std::pair<float, std::int32_t>> scratch;
  return kernels::sample_token(logits.data(), static_cast<std::int64_t>(logits.size()), s, penalized.data(),
                               static_cast<std::int64_t>(penalized.size()), u, scratch);
}

// Whether the CPU's pick stays the same when u and top-p move by 1e-9 (relative): else the
// case sits on a rounding boundary, where the GPU's order of addition may decide otherwise.
bool stable(const std::vector<float>& logits, TokenSampling s, const std::vector<std::int32_t>& penalized, double u,
            std::int32_t token) {
  if (s.is_greedy()) return true;
  for (double f : {1 - 1e-9, 1 + 1e-9}) {
    if (u * f < 1.0 && cpu_pick(logits, s, penalized, u * f) != token) return false;
  }
  if (s.top_p < 1.0f) {
    for (float p : {std::nextafter(s.top_p, 0.0f), std::nextafter(s.top_p, 1.0f)}) {
      TokenSampling moved = s;
      moved.top_p = p;
      if (p < 1.0f && cpu_pick(logits, moved, penalized, u) != token) return false;
    }
  }
  return true;
}

TEST(SampleTokenCuda, PicksWhatTheCpuOpPicks) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  int compared = 0, left_out = 0;
  for (int vocab : {1000, 32000, 151936}) {
    for (bool rounded : {false, true}) {
      std::vector<float> logits = test::random_floats(static_cast<std::size_t>(vocab), 11 + vocab, -8.0f, 8.0f);
      if (rounded) {
        for (auto& l : logits) l = std::round(l * 16.0f) / 16.0f;  // -0 where l rounds to zero from below
        logits[vocab / 2] = -0.0f;
        logits[vocab / 2 + 1] = 0.0f;
      }
      std::vector<std::int32_t> penalized;
      for (int id = 3; id < vocab && penalized.size() < 64; id += vocab / 61) penalized.push_back(id);
      penalized.push_back(static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
      std::sort(penalized.begin(), penalized.end());
      penalized.erase(std::unique(penalized.begin(), penalized.end()), penalized.end());

      const std::size_t workspace_bytes = sample_token_workspace_bytes(vocab);
      float* d_logits = nullptr;
      std::int32_t *d_penalized = nullptr, *d_token = nullptr;
      void* d_workspace = nullptr;
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_logits), logits.size() * sizeof(float)), cudaSuccess);
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_penalized), penalized.size() * sizeof(std::int32_t)), cudaSuccess);
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_token), sizeof(std::int32_t)), cudaSuccess);
      ASSERT_EQ(cudaMalloc(&d_workspace, workspace_bytes), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(d_logits, logits.data(), logits.size() * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(d_penalized, penalized.data(), penalized.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice),
                cudaSuccess);
      std::mt19937_64 rng(vocab);
      for (const Case& c : cases()) {
        for (int j = 0; j < 16; ++j) {
          const double u = (j + std::uniform_real_distribution<double>(0.0, 1.0)(rng)) / 16.0;
          const std::int32_t expected = cpu_pick(logits, c.sampling, penalized, u);
          if (!stable(logits, c.sampling, penalized, u, expected)) {
            ++left_out;
            continue;
          }
          sample_token(d_logits, vocab, c.sampling, d_penalized, static_cast<int>(penalized.size()), u, d_workspace,
                       workspace_bytes, d_token, nullptr);
          std::int32_t got = -1;
          ASSERT_EQ(cudaMemcpy(&got, d_token, sizeof(got), cudaMemcpyDeviceToHost), cudaSuccess);
          EXPECT_EQ(got, expected) << c.name << ", vocab " << vocab << (rounded ? " (rounded logits)" : "") << ", u " << u;
          ++compared;
        }
      }
      cudaFree(d_logits);
      cudaFree(d_penalized);
      cudaFree(d_token);
      cudaFree(d_workspace);
    }
  }
  EXPECT_LT(left_out * 20, compared + left_out) << left_out << " of " << compared + left_out << " draws on a boundary";
  std::printf("compared %d draws, %d left out on a rounding boundary\n", compared, left_out);
}

TEST(SampleTokenCuda, ASmallWorkspaceIsAnError) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  TokenSampling s;
  s.temperature = 1.0f;
  EXPECT_THROW(sample_token(nullptr, 1000, s, nullptr, 0, 0.5, nullptr, 16, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace eaq::kernels::cuda
