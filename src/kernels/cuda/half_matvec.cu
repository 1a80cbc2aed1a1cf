// Dense f16/bf16 matrix times 1..8 f32 vectors, the decode GEMV of half-precision weights: one
// to four warps per output row, 16-byte weight loads (eight halves a lane), up to eight loads in
// flight a lane, f32 accumulation; a scalar kernel covers rows whose length or alignment does not allow it.
// Optionally fused (HalfMatvecFusion): an RMSNorm of the input, computed on the fly — each warp
// multiplies its weights by the norm weights g as it reads them and sums the squares of the x
// values it reads anyway, the row's warps add those sums, and the result is scaled by 1/rms at
// the end: y = (sum_k W[n][k] g[k] x[k]) / rms(x), with no pass over x before the product — and an
// epilogue (bias, y +=), or the gated activation of a gate|up matrix, a block holding a gate row
// and its up row (with or without the norm).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdlib>
#include <cstring>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/decoder_ops.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

struct MatvecArgs {
  const uint16_t* w;
  long long rows, cols, stride;
  const float* x;
  float* y;
  const float* norm_weight;  // nullptr: no input norm
  float norm_offset, norm_eps;
  const float* bias;
  int accumulate;
  // Gated (HalfMatvecFusion::gate): rows [0, gate_rows) are the gate, [gate_rows, 2 gate_rows)
  // the up projection, and y[b][j] = act(gate_j . x) * (up_j . x), gate_rows values a batch row.
  long long gate_rows;
  int gelu_tanh;
};

// Output (b, row): the row's dot product times `scale` (1/rms(x[b]) with the norm, else 1), plus
// the bias value `bias` (a.bias[row], read earlier by the caller) where a.bias is set, plus `prior`
// (the value y held, read earlier) where a.accumulate.
__device__ __forceinline__ void store_matvec_output(const MatvecArgs& a, int b, long long row, float dot, float scale,
                                                    float bias, float prior) {
  float v = dot * scale;
  if (a.bias != nullptr) v += bias;
  if (a.accumulate) v += prior;
  a.y[b * a.rows + row] = v;
}

// The same, reading the bias and y's value now.
__device__ __forceinline__ void store_matvec_output(const MatvecArgs& a, int b, long long row, float dot, float scale) {
  store_matvec_output(a, b, row, dot, scale, a.bias != nullptr ? a.bias[row] : 0.0f,
                      a.accumulate ? a.y[b * a.rows + row] : 0.0f);
}

template <bool kBf16>
__device__ __forceinline__ void unpack8(const uint4& raw, float* f) {
  if constexpr (kBf16) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 v = __bfloat1622float2(h[i]);
      f[2 * i] = v.x;
      f[2 * i + 1] = v.y;
    }
  } else {
    half8_to_float(raw, f);
  }
}

// Warps a block: four, or with kGated eight where a row takes four (a block holds a gate row and
// its up row).
template <int kSplit, bool kGated>
inline constexpr int kMatvecWarps = kGated && 2 * kSplit > kWarpsPerBlock ? 2 * kSplit : kWarpsPerBlock;

// kSplit warps share one row (each takes every kSplit-th group of 32 chunks), so matrices with
// few rows still put enough loads in flight to cover HBM latency. kNorm: the input RMSNorm on the
// fly (each weight chunk times its eight norm weights; the squares of the x values read summed a
// warp, then over the row's kSplit warps; 1/rms applied to the row's sums). kGated: the block's
// rows are pairs (gate row j, up row gate_rows + j), and it writes act(gate) * up
// (MatvecArgs::gate_rows).
// (54 registers a thread held the 1.3B shape's GEMVs at 9 blocks an SM, 47% achieved occupancy by
// ncu on an H100; compiled for 12 blocks an SM, 40 registers, the 1.3B f16 decode ran 7% slower,
// 724.6 against 778.9 tok/s, 2026-12-06. An earlier kNorm staged x * g in shared memory once a
// block before the product: 17% slower on the 1.3B f16 decode than separate norm kernels.)
template <bool kBf16, int kBatch, int kSplit, bool kNorm, bool kGated>
__global__ void half_matvec_vec8_kernel(MatvecArgs a) {
  constexpr int kWarps = kMatvecWarps<kSplit, kGated>;
  constexpr int kRowsPerBlock = kWarps / kSplit;
  __shared__ float partial[kWarps][kBatch];
  __shared__ float partial_sq[kNorm ? kWarps : 1][kBatch];
  const long long rows = a.rows, cols = a.cols;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  // Row `slot` of the block; gated, slot 2i is gate row j and slot 2i + 1 up row gate_rows + j.
  const long long slot = static_cast<long long>(blockIdx.x) * kRowsPerBlock + warp / kSplit;
  const long long row = kGated ? (slot >> 1) + (slot & 1) * a.gate_rows : slot;
  const int part = warp % kSplit;
  constexpr long long kStep = 32LL * kSplit;
  const long long n_vec = cols / 8;
  const uint4* wr = reinterpret_cast<const uint4*>(a.w + min(row, rows - 1) * a.stride);
  // A step is four 16-byte loads a lane; the next step's loads are in flight while this one
  // computes. Weights are not written by any kernel, so the first step's loads are issued before
  // waiting for the previous kernel (pdl.cuh) and stream during its tail. Loads past the row are
  // skipped (a short row, e.g. 2048 halves over four warps, is one step of two loads a lane).
  long long v = part * 32LL + lane;
  uint4 next[4];
#pragma unroll
  for (int u = 0; u < 4; ++u) {
    if (v + kStep * u < n_vec) next[u] = __ldg(wr + v + kStep * u);
  }
  // The thread that stores the row's outputs reads what they add (bias, y's value with y +=) at
  // the start, so neither is a round trip after the weight stream: the bias (a weight) before the
  // wait, y's value (the previous kernel's output) right after it. (Read at the store, y += cost
  // the 1.3B o_proj 5.89 us against 4.40 plain; read here, 4.47 against 4.46: bench_half_matvec
  // on an H100, 2026-12-06.)
  const bool stores = !kGated && part == 0 && lane == 0 && row < rows;
  const float bias = stores && a.bias != nullptr ? __ldg(a.bias + row) : 0.0f;
  pdl_wait();
  float prior[kBatch];
#pragma unroll
  for (int bi = 0; bi < kBatch; ++bi) prior[bi] = stores && a.accumulate ? a.y[bi * rows + row] : 0.0f;
  const float* x = a.x;
  float acc[kBatch] = {}, sum_sq[kBatch] = {};
  for (; v < n_vec; v += 4 * kStep) {
    uint4 raw[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) raw[u] = next[u];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      if (v + 4 * kStep + kStep * u < n_vec) next[u] = __ldg(wr + v + 4 * kStep + kStep * u);
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      if (v + kStep * u < n_vec) {
        float f[8];
        unpack8<kBf16>(raw[u], f);
        if constexpr (kNorm) {
          const float4* gp = reinterpret_cast<const float4*>(a.norm_weight) + (v + kStep * u) * 2;
          const float4 g0 = __ldg(gp), g1 = __ldg(gp + 1);
          const float o = a.norm_offset;
          f[0] *= g0.x + o, f[1] *= g0.y + o, f[2] *= g0.z + o, f[3] *= g0.w + o;
          f[4] *= g1.x + o, f[5] *= g1.y + o, f[6] *= g1.z + o, f[7] *= g1.w + o;
        }
#pragma unroll
        for (int bi = 0; bi < kBatch; ++bi) {
          const float4* xa = reinterpret_cast<const float4*>(x + bi * cols + (v + kStep * u) * 8);
          const float4 a0 = xa[0], a1 = xa[1];
          acc[bi] += f[0] * a0.x + f[1] * a0.y + f[2] * a0.z + f[3] * a0.w + f[4] * a1.x + f[5] * a1.y +
                     f[6] * a1.z + f[7] * a1.w;
          if constexpr (kNorm) {
            sum_sq[bi] += a0.x * a0.x + a0.y * a0.y + a0.z * a0.z + a0.w * a0.w + a1.x * a1.x + a1.y * a1.y +
                          a1.z * a1.z + a1.w * a1.w;
          }
        }
      }
    }
  }
  // The next kernel may be scheduled once every block has streamed its weights (gemv_kernel.cuh).
  pdl_launch_dependents();
#pragma unroll
  for (int bi = 0; bi < kBatch; ++bi) {
    acc[bi] = warp_sum(acc[bi]);
    if constexpr (kNorm) sum_sq[bi] = warp_sum(sum_sq[bi]);
  }
  // 1/rms of batch row bi from the sum of its squares over the whole row (kNorm), else 1.
  auto row_scale = [&](float total_sq) {
    return kNorm ? rsqrtf(total_sq / static_cast<float>(cols) + a.norm_eps) : 1.0f;
  };
  if constexpr (kSplit == 1 && !kGated) {
    // The warp read all of x: its sums are the row's.
    if (lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        store_matvec_output(a, bi, row, acc[bi], row_scale(sum_sq[bi]), bias, prior[bi]);
      }
    }
    return;
  }
  if (lane == 0) {
#pragma unroll
    for (int bi = 0; bi < kBatch; ++bi) {
      partial[warp][bi] = acc[bi];
      if constexpr (kNorm) partial_sq[warp][bi] = sum_sq[bi];
    }
  }
  __syncthreads();
  // The sum over the kSplit warps of the row whose first warp is `w0` (slot w0 / kSplit).
  auto row_sum = [&](const float (*sums)[kBatch], int w0, int bi) {
    float total = 0.0f;
#pragma unroll
    for (int k = 0; k < kSplit; ++k) total += sums[w0 + k][bi];
    return total;
  };
  if constexpr (kGated) {
    // Pair i of the block: slots 2i (gate) and 2i + 1 (up), kSplit warps each; the gate row's
    // warps read all of x.
    constexpr int kPairs = kRowsPerBlock / 2;
    if (threadIdx.x < kPairs * kBatch) {
      const int i = static_cast<int>(threadIdx.x) / kBatch, bi = static_cast<int>(threadIdx.x) % kBatch;
      const long long j = static_cast<long long>(blockIdx.x) * kPairs + i;
      if (j < a.gate_rows) {
        const float scale = kNorm ? row_scale(row_sum(partial_sq, 2 * i * kSplit, bi)) : 1.0f;
        const float g = row_sum(partial, 2 * i * kSplit, bi) * scale;
        const float u = row_sum(partial, (2 * i + 1) * kSplit, bi) * scale;
        a.y[bi * a.gate_rows + j] = gated_value(g, u, a.gelu_tanh != 0);
      }
    }
  } else {
    if (part == 0 && lane == 0 && row < rows) {
#pragma unroll
      for (int bi = 0; bi < kBatch; ++bi) {
        const float scale = kNorm ? row_scale(row_sum(partial_sq, warp, bi)) : 1.0f;
        store_matvec_output(a, bi, row, row_sum(partial, warp, bi), scale, bias, prior[bi]);
      }
    }
  }
}

template <bool kBf16>
__global__ void half_matvec_scalar_kernel(MatvecArgs a, int batch) {
  pdl_launch_dependents();
  pdl_wait();
  // A warp an output: row `row`, or gated the pair (gate row, up row gate_rows + row).
  const long long row = static_cast<long long>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  const bool gated = a.gate_rows > 0;
  if (row >= (gated ? a.gate_rows : a.rows)) return;
  const int lane = threadIdx.x & 31;
  auto dot = [&](const uint16_t* wr, int bi, float* sum_sq) {
    float acc = 0.0f;
    for (long long k = lane; k < a.cols; k += 32) {
      float wv;
      if constexpr (kBf16) {
        wv = __bfloat162float(__ushort_as_bfloat16(wr[k]));
      } else {
        wv = __half2float(__ushort_as_half(wr[k]));
      }
      const float xv = a.x[bi * a.cols + k];
      if (a.norm_weight != nullptr) {
        wv *= a.norm_weight[k] + a.norm_offset;
        *sum_sq += xv * xv;
      }
      acc += wv * xv;
    }
    return warp_sum(acc);
  };
  for (int bi = 0; bi < batch; ++bi) {
    float sum_sq = 0.0f, unused = 0.0f;
    const float total = dot(a.w + row * a.stride, bi, &sum_sq);
    const float scale =
        a.norm_weight != nullptr ? rsqrtf(warp_sum(sum_sq) / static_cast<float>(a.cols) + a.norm_eps) : 1.0f;
    if (gated) {
      const float up = dot(a.w + (row + a.gate_rows) * a.stride, bi, &unused);
      if (lane == 0) a.y[bi * a.gate_rows + row] = gated_value(total * scale, up * scale, a.gelu_tanh != 0);
      continue;
    }
    if (lane == 0) store_matvec_output(a, bi, row, total, scale);
  }
}

template <bool kBf16, int kBatch, int kSplit, bool kNorm, bool kGated>
void launch_split(const MatvecArgs& a, cudaStream_t stream) {
  constexpr int kWarps = kMatvecWarps<kSplit, kGated>;
  const unsigned blocks = static_cast<unsigned>((a.rows * kSplit + kWarps - 1) / kWarps);
  (void)launch_pdl(half_matvec_vec8_kernel<kBf16, kBatch, kSplit, kNorm, kGated>, blocks, 32 * kWarps, 0, stream, a);
}

template <bool kBf16, int kBatch, bool kNorm, bool kGated>
void launch_vec8(const MatvecArgs& a, int split, cudaStream_t stream) {
  if (split == 4) {
    launch_split<kBf16, kBatch, 4, kNorm, kGated>(a, stream);
  } else if (split == 2) {
    launch_split<kBf16, kBatch, 2, kNorm, kGated>(a, stream);
  } else {
    launch_split<kBf16, kBatch, 1, kNorm, kGated>(a, stream);
  }
}

template <bool kBf16, bool kNorm, bool kGated>
void launch_batch(const MatvecArgs& a, int batch, int split, cudaStream_t stream) {
  switch (batch) {
    case 1: launch_vec8<kBf16, 1, kNorm, kGated>(a, split, stream); break;
    case 2: launch_vec8<kBf16, 2, kNorm, kGated>(a, split, stream); break;
    case 3: launch_vec8<kBf16, 3, kNorm, kGated>(a, split, stream); break;
    case 4: launch_vec8<kBf16, 4, kNorm, kGated>(a, split, stream); break;
    case 5: launch_vec8<kBf16, 5, kNorm, kGated>(a, split, stream); break;
    case 6: launch_vec8<kBf16, 6, kNorm, kGated>(a, split, stream); break;
    case 7: launch_vec8<kBf16, 7, kNorm, kGated>(a, split, stream); break;
    default: launch_vec8<kBf16, 8, kNorm, kGated>(a, split, stream); break;
  }
}

// Warps a row (the kernel's kSplit) for a matrix of `rows` rows of n_vec 16-byte chunks (8 halves
// each). bench_half_matvec on an H100, % of the copy bandwidth at 1 / 2 / 4 warps a row
// (2026-12-05, docs/cuda.md):
// - n_vec a multiple of 128 (every lane of four warps gets the same count): four warps won at
//   each shape measured — 6144x2048 70.4 / 80.6 / 83.4, 11008x2048 79.2 / 85.2 / 89.0, 32256x2048
//   93.8 / 96.1 / 97.3, 12288x4096 – / 92.0 / 94.8, 4096x4096 – / 77.3 / 81.8, 22016x4096
//   94.7 / 97.0 / 98.7 (2048x2048: 63.3 / 62.3 / 63.4);
// - otherwise under 1280 chunks (a lane of four warps would have < 10, partly in a ragged last step)
//   two warps: 2048x1536 57.5 / 58.4 / 53.0, 1536x1536 48.6 / 51.9 / 45.7, 1536x8960 – / 78.3 /
//   69.3, 2048x5504 – / 79.6 / 75.2; and one warp a row with 16384 rows or more (17920x1536
//   89.3 / 88.1 / 76.3), as the 1.5B LM head (151936x1536, not measured at other splits) ran;
// - longer rows four warps: 4096x11008 – / 83.4 / 88.2.
// The earlier rule (one warp a row from 16384 rows, else by loads a warp: >= 32 four, >= 16 two)
// stays for A/B as EAQ_CUDA_HALF_SPLIT=rows; "1", "2", "4" force a split for every matrix.
int warps_per_row(long long rows, long long n_vec) {
  static const int forced = [] {
    const char* e = std::getenv("EAQ_CUDA_HALF_SPLIT");
    if (e == nullptr || *e == '\0') return 0;
    if (std::strcmp(e, "1") == 0) return 1;
    if (std::strcmp(e, "2") == 0) return 2;
    if (std::strcmp(e, "4") == 0) return 4;
    EAQ_CHECK(std::strcmp(e, "rows") == 0,
              "EAQ_CUDA_HALF_SPLIT='{}' is not rows, 1, 2 or 4 (unset it for the measured rule)", e);
    return -1;
  }();
  if (forced > 0) return forced;
  if (forced < 0) {
    const long long loads_per_warp = n_vec / 32;
    return rows >= 16384 ? 1 : loads_per_warp >= 32 ? 4 : loads_per_warp >= 16 ? 2 : 1;
  }
  if (n_vec % 128 == 0) return 4;
  if (n_vec < 1280) return rows >= 16384 ? 1 : 2;
  return 4;
}

template <bool kBf16>
void launch(const MatvecArgs& a, int batch, cudaStream_t stream) {
  const bool vec8 = a.cols % 8 == 0 && a.stride % 8 == 0 && reinterpret_cast<std::uintptr_t>(a.w) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(a.x) % 16 == 0 &&
                    reinterpret_cast<std::uintptr_t>(a.norm_weight) % 16 == 0;
  if (!vec8) {
    const long long outputs = a.gate_rows > 0 ? a.gate_rows : a.rows;
    const unsigned blocks = static_cast<unsigned>((outputs + kWarpsPerBlock - 1) / kWarpsPerBlock);
    (void)launch_pdl(half_matvec_scalar_kernel<kBf16>, blocks, 32 * kWarpsPerBlock, 0, stream, a, batch);
    return;
  }
  const int split = warps_per_row(a.rows, a.cols / 8);
  if (a.norm_weight != nullptr && a.gate_rows > 0) {
    launch_batch<kBf16, true, true>(a, batch, split, stream);
  } else if (a.norm_weight != nullptr) {
    launch_batch<kBf16, true, false>(a, batch, split, stream);
  } else if (a.gate_rows > 0) {
    launch_batch<kBf16, false, true>(a, batch, split, stream);
  } else {
    launch_batch<kBf16, false, false>(a, batch, split, stream);
  }
}

}  // namespace

void half_matvec(const void* w, DType dtype, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                 const float* x, int batch, float* y, cudaStream_t stream, const HalfMatvecFusion& fusion) {
  EAQ_CHECK(dtype == DType::F16 || dtype == DType::BF16, "half_matvec takes f16 or bf16 weights");
  EAQ_CHECK(batch >= 1 && batch <= 8, "half_matvec batch {} outside 1..8", batch);
  EAQ_CHECK(fusion.gate == Gate::kNone || (fusion.bias == nullptr && !fusion.accumulate && rows % 2 == 0),
            "half_matvec's gated form takes no bias or accumulation, and an even row count (gate | up), got {}", rows);
  if (rows <= 0) return;
  MatvecArgs a{};
  a.w = static_cast<const uint16_t*>(w);
  a.rows = rows;
  a.cols = cols;
  a.stride = row_stride;
  a.x = x;
  a.y = y;
  a.norm_weight = fusion.norm_weight;
  a.norm_offset = fusion.norm_offset;
  a.norm_eps = fusion.norm_eps;
  a.bias = fusion.bias;
  a.accumulate = fusion.accumulate ? 1 : 0;
  a.gate_rows = fusion.gate == Gate::kNone ? 0 : rows / 2;
  a.gelu_tanh = fusion.gate == Gate::kGeluTanh ? 1 : 0;
  if (dtype == DType::BF16) {
    launch<true>(a, batch, stream);
  } else {
    launch<false>(a, batch, stream);
  }
  EAQ_CUDA_CHECK(cudaGetLastError());
}

}  // namespace eaq::kernels::cuda
