// The streaming schedule of the dense f16/bf16 decode GEMV (EAQ_CUDA_HALF_MATVEC=stream). The
// default kernel (half_matvec.cu) gives each block one to four rows and ends it: on the 1.3B
// shape's 2048-long rows a block's life is two 16-byte loads a lane, a wait of one DRAM round
// trip, a reduction through shared memory and a store, and an SM holds nine such blocks, so its
// bytes in flight drop between one block leaving and the next starting. Here the grid stays
// resident (16 warps an SM by default) and each warp takes whole outputs in turn — outputs w,
// w + W, w + 2W, … of W warps — reading each row in segments of 256 16-byte chunks (eight loads a
// lane, 4 KiB), the next segment in flight while it computes the current one; the first two are
// requested before the PDL wait. A row's sum is one warp's (no shared memory, no block barrier)
// and the outputs are each written by one warp, so the result does not depend on the grid.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/half_matvec_args.cuh"
#include "kernels/cuda/pdl.cuh"

namespace eaq::kernels::cuda::detail {

namespace {

constexpr int kStreamWarps = 4;                     // warps a block
constexpr int kSegmentLoads = 8;                    // 16-byte loads a lane a segment
constexpr int kSegmentChunks = 32 * kSegmentLoads;  // 256 chunks: 2048 halves of one row

// Where a warp's stream of segments is: its o-th output, part (gated: 0 the gate row, 1 the up
// row; else 0), and the segment's first chunk in that row.
struct SegmentCursor {
  int o = 0, part = 0;
  long long first = 0;
};

template <bool kBf16, int kBatch, bool kGated>
__global__ void __launch_bounds__(32 * kStreamWarps) half_matvec_stream_kernel(MatvecArgs a, int outputs) {
  constexpr int kParts = kGated ? 2 : 1;
  const int lane = threadIdx.x & 31;
  const int warp0 = static_cast<int>(blockIdx.x) * kStreamWarps + static_cast<int>(threadIdx.x >> 5);
  const int n_warps = static_cast<int>(gridDim.x) * kStreamWarps;
  const long long n_vec = a.cols / 8;
  const int my_outputs = warp0 < outputs ? (outputs - warp0 + n_warps - 1) / n_warps : 0;
  auto output_of = [&](int o) { return warp0 + static_cast<long long>(o) * n_warps; };
  auto advance = [&](SegmentCursor& c) {
    c.first += kSegmentChunks;
    if (c.first >= n_vec) {
      c.first = 0;
      if (++c.part == kParts) {
        c.part = 0;
        ++c.o;
      }
    }
  };
  auto load = [&](const SegmentCursor& c, uint4 (&buf)[kSegmentLoads]) {
    if (c.o >= my_outputs) return;
    const long long row = output_of(c.o) + (kGated && c.part == 1 ? a.gate_rows : 0);
    const uint4* wr = reinterpret_cast<const uint4*>(a.w + row * a.stride);
#pragma unroll
    for (int u = 0; u < kSegmentLoads; ++u) {
      const long long chunk = c.first + lane + 32 * u;
      if (chunk < n_vec) buf[u] = __ldg(wr + chunk);
    }
  };
  float acc_gate[kBatch] = {}, acc_up[kBatch] = {};  // acc_gate: the row's sums where not gated
  auto compute = [&](const SegmentCursor& c, const uint4 (&buf)[kSegmentLoads]) {
    float d[kBatch] = {};
#pragma unroll
    for (int u = 0; u < kSegmentLoads; ++u) {
      const long long chunk = c.first + lane + 32 * u;
      if (chunk < n_vec) {
        float f[8];
        unpack8<kBf16>(buf[u], f);
#pragma unroll
        for (int bi = 0; bi < kBatch; ++bi) {
          const float4* xa = reinterpret_cast<const float4*>(a.x + bi * a.cols + chunk * 8);
          const float4 x0 = xa[0], x1 = xa[1];
          d[bi] += f[0] * x0.x + f[1] * x0.y + f[2] * x0.z + f[3] * x0.w + f[4] * x1.x + f[5] * x1.y +
                   f[6] * x1.z + f[7] * x1.w;
        }
      }
    }
#pragma unroll
    for (int bi = 0; bi < kBatch; ++bi) {
      if (kGated && c.part == 1) {
        acc_up[bi] += d[bi];
      } else {
        acc_gate[bi] += d[bi];
      }
    }
    if (c.first + kSegmentChunks < n_vec || c.part != kParts - 1) return;
    // The output's last segment: its sums over the warp, stored by lane 0.
    const long long out = output_of(c.o);
#pragma unroll
    for (int bi = 0; bi < kBatch; ++bi) {
      const float g = warp_sum(acc_gate[bi]);
      if constexpr (kGated) {
        const float up = warp_sum(acc_up[bi]);
        if (lane == 0) a.y[bi * a.gate_rows + out] = gated_value(g, up, a.gelu_tanh != 0);
        acc_up[bi] = 0.0f;
      } else {
        if (lane == 0) store_matvec_output(a, bi, out, g, 1.0f);
      }
      acc_gate[bi] = 0.0f;
    }
  };
  uint4 buf_a[kSegmentLoads] = {}, buf_b[kSegmentLoads] = {};
  SegmentCursor at, load_at;
  // Weights are written by no kernel: the first two segments stream during the previous
  // kernel's tail (pdl.cuh).
  load(load_at, buf_a);
  advance(load_at);
  load(load_at, buf_b);
  advance(load_at);
  pdl_wait();
  while (at.o < my_outputs) {
    compute(at, buf_a);
    advance(at);
    load(load_at, buf_a);
    advance(load_at);
    if (at.o >= my_outputs) break;
    compute(at, buf_b);
    advance(at);
    load(load_at, buf_b);
    advance(load_at);
  }
  pdl_launch_dependents();
}

// Warps an SM the grid aims for: EAQ_CUDA_HALF_STREAM_WARPS (4 to 64, a multiple of 4; default
// 16), no more than the kernel's occupancy allows.
int stream_warps_per_sm() {
  const char* e = std::getenv("EAQ_CUDA_HALF_STREAM_WARPS");
  if (e == nullptr || *e == '\0') return 16;
  char* end = nullptr;
  const long v = std::strtol(e, &end, 10);
  EAQ_CHECK(*end == '\0' && v >= 4 && v <= 64 && v % 4 == 0,
            "EAQ_CUDA_HALF_STREAM_WARPS='{}' is not a multiple of 4 from 4 to 64 (unset: 16)", e);
  return static_cast<int>(v);
}

template <bool kBf16, int kBatch, bool kGated>
void launch_form(const MatvecArgs& a, cudaStream_t stream) {
  const auto kernel = half_matvec_stream_kernel<kBf16, kBatch, kGated>;
  static const int blocks_per_sm = [&] {
    int n = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, 32 * kStreamWarps, 0) != cudaSuccess) {
      cudaGetLastError();
      n = 1;
    }
    return std::max(n, 1);
  }();
  const long long outputs = kGated ? a.gate_rows : a.rows;
  const long long max_warps = static_cast<long long>(std::max(1, multiprocessor_count())) *
                              std::min(blocks_per_sm * kStreamWarps, stream_warps_per_sm());
  // As many outputs a warp as the resident warps need, then as few warps as carry that.
  const long long per_warp = (outputs + max_warps - 1) / max_warps;
  const long long warps = (outputs + per_warp - 1) / per_warp;
  const auto blocks = static_cast<unsigned>((warps + kStreamWarps - 1) / kStreamWarps);
  EAQ_CUDA_CHECK(launch_pdl(kernel, blocks, 32 * kStreamWarps, 0, stream, a, static_cast<int>(outputs)));
}

template <bool kBf16, bool kGated>
void launch_batch(const MatvecArgs& a, int batch, cudaStream_t stream) {
  switch (batch) {
    case 1: launch_form<kBf16, 1, kGated>(a, stream); break;
    case 2: launch_form<kBf16, 2, kGated>(a, stream); break;
    case 3: launch_form<kBf16, 3, kGated>(a, stream); break;
    default: launch_form<kBf16, 4, kGated>(a, stream); break;
  }
}

}  // namespace

void launch_half_matvec_stream(const MatvecArgs& a, bool bf16, int batch, cudaStream_t stream) {
  EAQ_CHECK(batch >= 1 && batch <= kHalfMatvecStreamMaxBatch, "the streaming half_matvec takes batch 1..{}, got {}",
            kHalfMatvecStreamMaxBatch, batch);
  EAQ_CHECK(a.norm_weight == nullptr, "the streaming half_matvec has no input norm");
  const bool gated = a.gate_rows > 0;
  if (bf16) {
    gated ? launch_batch<true, true>(a, batch, stream) : launch_batch<true, false>(a, batch, stream);
  } else {
    gated ? launch_batch<false, true>(a, batch, stream) : launch_batch<false, false>(a, batch, stream);
  }
}

}  // namespace eaq::kernels::cuda::detail
