// Instances and launch of the tensor-core decode GEMV (gemv_mma.cuh) for: MmaI8Row, MmaI4S<32>,
// MmaI4S<64>, MmaI4S<128>.
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "core/error.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/gemv_mma.cuh"

namespace eaq::kernels::cuda::detail {

namespace {

// Blocks of `kernel` an SM holds at `threads` threads and `shared` bytes (cached: the occupancy
// query is a host call, and eager decoding launches every GEMV each token).
int blocks_per_sm(const void* kernel, int threads, std::size_t shared) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, int, std::size_t>, int> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(kernel, threads, shared);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, shared) != cudaSuccess) {
    cudaGetLastError();
    n = 1;
  }
  return cache[key] = n;
}

template <class F, int kMmas, bool kSplit>
void launch(const GemvArgs& a, int batch, cudaStream_t stream) {
  const void* kernel = reinterpret_cast<const void*>(gemv_mma_kernel<F, kMmas, kSplit>);
  // The split and the sums can pass the 48 KB a block gets without asking (up to 64 KB).
  static const bool opted_in = [&] {
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024) == cudaSuccess ||
           (cudaGetLastError(), false);
  }();
  (void)opted_in;
  // Warps a block: the count with the least estimated time, row tiles a resident block x column
  // tiles a warp (ties: more warps), 4 to kMmaMaxWarps and no more than the column tiles. The grid
  // is the resident blocks (each loops over row tiles), or the row tiles when fewer.
  const std::int64_t row_tiles = (a.rows + kMmaTileRows - 1) / kMmaTileRows;
  const std::int64_t cols_padded = a.n_super * F::kTileCols;
  int warps = 4;
  std::int64_t slots_of_best = 1;
  double best = 0;
  for (int w = kMmaMaxWarps; w >= 4; w /= 2) {
    if (w > a.n_super && w > 4) continue;
    const int per_sm = blocks_per_sm(kernel, 32 * w, mma_shared_bytes(batch, cols_padded, w, kMmas));
    const std::int64_t slots = static_cast<std::int64_t>(std::max(1, multiprocessor_count())) * (per_sm > 0 ? per_sm : 1);
    const double time = static_cast<double>((row_tiles + slots - 1) / slots) * static_cast<double>((a.n_super + w - 1) / w);
    if (best == 0 || time < best) {
      best = time;
      warps = w;
      slots_of_best = slots;
    }
  }
  const std::size_t shared = mma_shared_bytes(batch, cols_padded, warps, kMmas);
  const auto blocks = static_cast<unsigned>(row_tiles < slots_of_best ? row_tiles : slots_of_best);
  (void)launch_pdl(gemv_mma_kernel<F, kMmas, kSplit>, blocks, 32 * warps, shared, stream, a, batch);
}

}  // namespace

template <class F>
void launch_gemv_mma(const GemvArgs& a, int batch, cudaStream_t stream) {
  if (launch_gemv_mma_cluster<F>(a, batch, stream)) return;
  // gemv() asks for the gated epilogue only where the cluster kernel runs (gemv_supports_gate).
  EAQ_CHECK(a.gate_rows == 0, "the row-tile tensor-core GEMV has no gated epilogue");
  if (mma_x_in_shared(batch, a.n_super * F::kTileCols)) {
    launch<F, 1, true>(a, batch, stream);
  } else if (batch <= 4) {
    launch<F, 1, false>(a, batch, stream);
  } else {
    launch<F, 2, false>(a, batch, stream);
  }
}

template void launch_gemv_mma<MmaI8Row>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv_mma<MmaI4S<32>>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv_mma<MmaI4S<64>>(const GemvArgs&, int, cudaStream_t);
template void launch_gemv_mma<MmaI4S<128>>(const GemvArgs&, int, cudaStream_t);

}  // namespace eaq::kernels::cuda::detail
