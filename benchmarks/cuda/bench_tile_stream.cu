// How fast the int4 tensor-core decode GEMV's weight reads alone can stream: the grid of the
// cluster kernel (src/kernels/cuda/gemv_mma_cluster.cu: 8 warps a block, k_splits blocks a
// cluster, each warp one contiguous run of 512-byte tiles of one 16-row tile) with every load kept
// (XOR-folded into one word a warp) and nothing else: no decode, no mma, no split of x, no merge.
// Beside it, the same runs with more loads in flight a warp, without the cluster launch, and at
// other depths of warps an SM, and the device-to-device copy, all in the same run. Then the GEMV
// kernel itself built up part by part (launch_gemv_mma_cluster_stage, gemv_mma.cuh): its loads
// (codes and group scales), + the wait and the split of x, + the mma, + the cluster's merge: pushed
// (the kernel as the engine runs it by default) and by cluster barriers
// (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier), so the time each part adds is seen.
//
// Why: the 7B int4-g128 decode's GEMVs stream at ~61-65% of the copy (docs/cuda.md) and fewer
// instructions, more bytes in flight and a TMA feed did not move it. If the loads alone, on this
// grid, reach the copy, what is lost is in the kernel's computing; if they do not, the grid is.
//
//   bench_tile_stream [--reps 20]
//
// Shapes: Llama-2-7B's four decode GEMVs at i4s_g128 (codes only: the group scales are another 3%).
// Each timing is a CUDA graph of 32 launches back to back (as a decode step's GEMVs are), over
// copies of the weights that together pass the L2; the median replay over the bytes read.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/gemv_mma.cuh"
#include "workbench_timing.cuh"

namespace {

using eaq::workbench::check;
namespace kd = eaq::kernels::cuda::detail;
using kd::load_stream16;  // the GEMV's own weight load (gemv_formats.cuh)

constexpr int kWarps = 8;                         // a block's warps: one row tile each
constexpr int kTileBytes = kd::kMmaTileBytes;     // a 16-row tile of int4 codes
constexpr int kTileCols = kd::MmaI4S<128>::kTileCols;
constexpr int kMaxSplits = 8;                     // gemv_mma_cluster.cu's kMaxClusterSplits

__device__ __forceinline__ unsigned fold(const uint4& v) { return v.x ^ v.y ^ v.z ^ v.w; }

// kDepth tiles a warp: kPingPong as the GEMV (two sets of kDepth, one consumed while the other
// streams), else a ring of kDepth loads refilled as each is consumed.
template <int kDepth, bool kPingPong>
__global__ void __launch_bounds__(kWarps * 32) stream_tiles(const uint4* codes, std::int64_t row_tiles,
                                                            std::int64_t n_super, int per_split, unsigned* sink) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const std::int64_t tr = static_cast<std::int64_t>(blockIdx.y) * kWarps + warp;
  const std::int64_t kt0 = static_cast<std::int64_t>(blockIdx.x) * per_split;
  int n = static_cast<int>(min(static_cast<std::int64_t>(per_split), n_super - kt0));
  if (tr >= row_tiles || n < 0) n = 0;
  const uint4* p = codes + (tr * n_super + kt0) * (kTileBytes / 16) + lane;
  unsigned acc = 0;
  if constexpr (kPingPong) {
    uint4 s0[kDepth], s1[kDepth];
#pragma unroll
    for (int u = 0; u < kDepth; ++u) s0[u] = u < n ? load_stream16(p + u * 32) : uint4{};
    for (int left = n; left > 0; left -= 2 * kDepth) {
#pragma unroll
      for (int u = 0; u < kDepth; ++u) s1[u] = kDepth + u < left ? load_stream16(p + (kDepth + u) * 32) : uint4{};
#pragma unroll
      for (int u = 0; u < kDepth; ++u) acc ^= fold(s0[u]);
#pragma unroll
      for (int u = 0; u < kDepth; ++u) s0[u] = 2 * kDepth + u < left ? load_stream16(p + (2 * kDepth + u) * 32) : uint4{};
#pragma unroll
      for (int u = 0; u < kDepth; ++u) acc ^= fold(s1[u]);
      p += 2 * kDepth * 32;
    }
  } else {
    uint4 ring[kDepth];
#pragma unroll
    for (int u = 0; u < kDepth; ++u) ring[u] = u < n ? load_stream16(p + u * 32) : uint4{};
    for (int base = 0; base < n; base += kDepth) {
#pragma unroll
      for (int u = 0; u < kDepth; ++u) {
        acc ^= fold(ring[u]);
        const int next = base + kDepth + u;
        ring[u] = next < n ? load_stream16(p + next * 32) : uint4{};
      }
    }
  }
  if (acc == 0x9e3779b9u) sink[0] = acc;  // keeps every load; almost never stores
}

// The cluster kernel's split (gemv_mma_cluster.cu's cluster_split, batch 1): enough warps to fill
// the GPU warps_per_sm deep, at most 8 blocks a cluster.
struct Split {
  std::int64_t splits, per_split;
};
Split split_for(std::int64_t row_tiles, std::int64_t k_tiles, int sms, int warps_per_sm) {
  const std::int64_t want = static_cast<std::int64_t>(sms) * warps_per_sm;
  std::int64_t splits = std::clamp<std::int64_t>((want + row_tiles - 1) / row_tiles, 1, kMaxSplits);
  splits = std::min(splits, k_tiles);
  const std::int64_t per = (k_tiles + splits - 1) / splits;
  return {(k_tiles + per - 1) / per, per};
}

struct Variant {
  const char* name;
  void (*kernel)(const uint4*, std::int64_t, std::int64_t, int, unsigned*);
  bool cluster;
  int warps_per_sm;
  bool pdl;  // launched with programmatic stream serialization, as the engine's GEMVs
};

}  // namespace

int main(int argc, char** argv) {
  const int reps = eaq::workbench::parse_reps(argc, argv, 20);
  const eaq::workbench::WorkbenchGpu gpu = eaq::workbench::describe_gpu();
  const int sms = gpu.prop.multiProcessorCount;
  struct Shape {
    const char* what;
    std::int64_t rows, cols;
  };
  const Shape shapes[] = {{"q|k|v 12288x4096", 12288, 4096},
                          {"o 4096x4096", 4096, 4096},
                          {"gate|up 22016x4096", 22016, 4096},
                          {"down 4096x11008", 4096, 11008}};
  const Variant variants[] = {
      {"GEMV's form: 2 sets of 4, cluster, 16 warps/SM", stream_tiles<4, true>, true, 16, false},
      {"same, PDL launch", stream_tiles<4, true>, true, 16, true},
      {"same, no cluster launch", stream_tiles<4, true>, false, 16, false},
      {"2 sets of 4, cluster, 8 warps/SM", stream_tiles<4, true>, true, 8, false},
      {"2 sets of 4, cluster, 32 warps/SM", stream_tiles<4, true>, true, 32, false},
      {"ring of 8, cluster, 16 warps/SM", stream_tiles<8, false>, true, 16, false},
      {"ring of 16, cluster, 16 warps/SM", stream_tiles<16, false>, true, 16, false},
      {"ring of 16, cluster, 32 warps/SM", stream_tiles<16, false>, true, 32, false},
      {"ring of 16, no cluster, 64 warps/SM", stream_tiles<16, false>, false, 64, false},
  };
  unsigned* sink = nullptr;
  check(cudaMalloc(&sink, 4), "cudaMalloc sink");
  std::printf("\n| shape (7B, i4s_g128 codes) | variant | grid | us/call | GB/s | %% of copy |\n|---|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    const std::int64_t row_tiles = s.rows / 16, k_tiles = s.cols / kTileCols;
    const std::size_t bytes = static_cast<std::size_t>(row_tiles * k_tiles) * kTileBytes;
    const int copies = static_cast<int>(std::max<std::size_t>(4, (256u << 20) / bytes + 1));
    std::vector<uint4*> w(static_cast<std::size_t>(copies));
    for (auto& p : w) {
      check(cudaMalloc(&p, bytes), "cudaMalloc weights");
      check(cudaMemset(p, 0x5a, bytes), "cudaMemset weights");
    }
    for (const Variant& v : variants) {
      const Split sp = split_for(row_tiles, k_tiles, sms, v.warps_per_sm);
      const dim3 grid(static_cast<unsigned>(sp.splits), static_cast<unsigned>((row_tiles + kWarps - 1) / kWarps));
      constexpr int kCalls = 32;
      const double s_per_call = eaq::workbench::graph_seconds_per_call(
          [&](cudaStream_t stream) {
            for (int c = 0; c < kCalls; ++c) {
              cudaLaunchConfig_t cfg{};
              cfg.gridDim = grid;
              cfg.blockDim = dim3(kWarps * 32);
              cfg.stream = stream;
              cudaLaunchAttribute attr[2];
              unsigned n_attr = 0;
              if (v.cluster) {
                attr[n_attr].id = cudaLaunchAttributeClusterDimension;
                attr[n_attr].val.clusterDim.x = static_cast<unsigned>(sp.splits);
                attr[n_attr].val.clusterDim.y = 1;
                attr[n_attr].val.clusterDim.z = 1;
                ++n_attr;
              }
              if (v.pdl) {
                attr[n_attr].id = cudaLaunchAttributeProgrammaticStreamSerialization;
                attr[n_attr].val.programmaticStreamSerializationAllowed = 1;
                ++n_attr;
              }
              cfg.attrs = attr;
              cfg.numAttrs = n_attr;
              check(cudaLaunchKernelEx(&cfg, v.kernel, static_cast<const uint4*>(w[static_cast<std::size_t>(c % copies)]),
                                       row_tiles, k_tiles, static_cast<int>(sp.per_split), sink),
                    "cudaLaunchKernelEx");
            }
          },
          kCalls, reps);
      const double bps = static_cast<double>(bytes) / s_per_call;
      std::printf("| %s | %s | %lldx%u | %.2f | %.0f | %.1f |\n", s.what, v.name, static_cast<long long>(sp.splits),
                  grid.y, s_per_call * 1e6, bps / 1e9, 100.0 * bps / gpu.copy_bytes_per_s);
      std::fflush(stdout);
    }
    for (auto* p : w) cudaFree(p);
  }
  cudaFree(sink);

  // The kernel part by part, i4s_g128, batch 1 (not gated: gate|up as one 22016-row matrix).
  bool all_same = true;
  namespace kd = eaq::kernels::cuda::detail;
  using F = kd::MmaI4S<128>;
  const char* stage_names[] = {"", "loads (codes + scales)", "+ wait and x split", "+ mma",
                               "+ pushed merge (the kernel, the engine's default)",
                               "+ merge by cluster barriers (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier)"};
  std::printf("\n| shape (7B, i4s_g128) | the GEMV kernel up to | us/call | GB/s (codes + scales) | %% of copy |\n"
              "|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    const std::int64_t row_tiles = s.rows / 16, k_tiles = s.cols / kTileCols, groups = s.cols / 128;
    const std::size_t code_bytes = static_cast<std::size_t>(row_tiles * k_tiles) * kTileBytes;
    const std::size_t scale_bytes = static_cast<std::size_t>(row_tiles * groups) * 32;
    const std::size_t bytes = code_bytes + scale_bytes;
    const int copies = static_cast<int>(std::max<std::size_t>(4, (256u << 20) / bytes + 1));
    std::vector<kd::GemvArgs> args(static_cast<std::size_t>(copies));
    std::vector<float> y_pushed, y_barriers;
    float *x = nullptr, *y = nullptr;
    check(cudaMalloc(&x, static_cast<std::size_t>(s.cols) * 4), "cudaMalloc x");
    check(cudaMalloc(&y, static_cast<std::size_t>(s.rows) * 4), "cudaMalloc y");
    std::vector<float> hx(static_cast<std::size_t>(s.cols));
    std::uint32_t state = 12345u;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    for (float& v : hx) v = static_cast<float>(static_cast<int>(next() >> 8) % 2001 - 1000) * 1e-3f;
    check(cudaMemcpy(x, hx.data(), hx.size() * 4, cudaMemcpyHostToDevice), "x copy");
    std::vector<std::uint8_t> random_codes(code_bytes);
    for (auto& c : random_codes) c = static_cast<std::uint8_t>(next() >> 24);
    for (auto& a : args) {
      std::uint8_t *codes = nullptr, *scales = nullptr;
      check(cudaMalloc(&codes, code_bytes), "cudaMalloc codes");
      check(cudaMalloc(&scales, scale_bytes), "cudaMalloc scales");
      check(cudaMemcpy(codes, random_codes.data(), code_bytes, cudaMemcpyHostToDevice), "codes copy");
      check(cudaMemset(scales, 0x20, scale_bytes), "cudaMemset scales");  // f16 0x2020: ~0.0081
      a = kd::GemvArgs{};
      a.codes = codes;
      a.code_row_bytes = static_cast<std::size_t>(s.cols) / 2;
      a.scales = scales;
      a.scale_row_bytes = static_cast<std::size_t>(groups) * 2;
      a.rows = s.rows;
      a.cols = s.cols;
      a.n_super = k_tiles;
      a.x = x;
      a.y = y;
    }
    for (int stage = kd::kMmaClusterStageLoads; stage <= kd::kMmaClusterStageAllBarriers; ++stage) {
      constexpr int kCalls = 32;
      bool launched = true;
      const double s_per_call = eaq::workbench::graph_seconds_per_call(
          [&](cudaStream_t stream) {
            for (int c = 0; c < kCalls; ++c) {
              launched = launched && kd::launch_gemv_mma_cluster_stage<F>(args[static_cast<std::size_t>(c % copies)], 1,
                                                                          stream, stage);
            }
          },
          kCalls, reps);
      if (!launched) {
        std::printf("| %s | the cluster kernel does not run here (sm_90 only) | | | |\n", s.what);
        break;
      }
      const double bps = static_cast<double>(bytes) / s_per_call;
      std::printf("| %s | %s | %.2f | %.0f | %.1f |\n", s.what, stage_names[stage], s_per_call * 1e6, bps / 1e9,
                  100.0 * bps / gpu.copy_bytes_per_s);
      std::fflush(stdout);
      if (stage >= kd::kMmaClusterStageAll) {  // the two merges' outputs, to compare
        check(cudaMemset(y, 0xff, static_cast<std::size_t>(s.rows) * 4), "y clear");
        kd::launch_gemv_mma_cluster_stage<F>(args[0], 1, nullptr, stage);
        check(cudaDeviceSynchronize(), "GEMV run");
        auto& out = stage == kd::kMmaClusterStageAll ? y_pushed : y_barriers;
        out.resize(static_cast<std::size_t>(s.rows));
        check(cudaMemcpy(out.data(), y, out.size() * 4, cudaMemcpyDeviceToHost), "y copy");
      }
    }
    if (!y_pushed.empty() && !y_barriers.empty()) {
      const bool same = std::memcmp(y_pushed.data(), y_barriers.data(), y_pushed.size() * 4) == 0;
      all_same = all_same && same;
      std::printf("| %s | the pushed merge's output is the barriers' bit for bit: %s | | | |\n", s.what,
                  same ? "yes" : "NO");
    }
    for (auto& a : args) {
      cudaFree(const_cast<std::uint8_t*>(a.codes));
      cudaFree(const_cast<std::uint8_t*>(a.scales));
    }
    cudaFree(x);
    cudaFree(y);
  }
  return all_same ? 0 : 1;
}
