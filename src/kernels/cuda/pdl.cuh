// Programmatic dependent launch (PDL, Hopper and later): a kernel of the decode step may be
// scheduled while the kernel before it in the stream is still finishing, so its launch latency
// and its first weight loads overlap that kernel's tail instead of following it.
//
// The contract every kernel launched through launch_pdl() keeps:
//   ... only reads of data no kernel writes (weights) ...
//   pdl_wait();                // the previous kernel has completed and its writes are visible
//   ... everything else ...
// and it calls pdl_launch_dependents() (the next kernel may be scheduled from now on) once: at its
// start for the small kernels, after the weight stream for the GEMVs (earlier, the next GEMV's
// waiting blocks competed with this one's stream: measured slower).
// pdl_wait() waits for the whole previous grid (not just its trigger), and that grid waited for
// its own predecessor before completing, so the stream's order of writes is kept transitively.
// Both calls are no-ops when the kernel was launched without the attribute, and compile to
// nothing below sm_90. EAQ_CUDA_PDL=0 turns the attribute off (for A/B measurements).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

namespace eaq::kernels::cuda {

__host__ __device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__host__ __device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Whether kernels launched now on the current device get the PDL attribute: compute capability
// 9.0 or later and EAQ_CUDA_PDL not "0". Cached per device (defined in pdl_cuda.cpp).
bool pdl_enabled();

// kernel<<<grid, block, shared_bytes, stream>>>(args...) as a grid of thread block clusters of
// cluster_x blocks along x (sm_90+; grid.x a multiple of cluster_x; 0: no clusters), with the PDL
// attribute where pdl_enabled(). Returns the launch's status (also left for cudaGetLastError(),
// like <<<>>>).
template <class... KernelArgs, class... Args>
cudaError_t launch_pdl_cluster(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, std::size_t shared_bytes,
                               unsigned cluster_x, cudaStream_t stream, Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  cudaLaunchAttribute attribute[2];
  unsigned n = 0;
  if (cluster_x > 0) {
    attribute[n].id = cudaLaunchAttributeClusterDimension;
    attribute[n].val.clusterDim.x = cluster_x;
    attribute[n].val.clusterDim.y = 1;
    attribute[n].val.clusterDim.z = 1;
    ++n;
  }
  // Not on the legacy default stream, whose implicit synchronisation with every other stream the
  // attribute would not change; eaq's decode runs on its own stream.
  const bool legacy = stream == nullptr || stream == cudaStreamLegacy;
  if (!legacy && pdl_enabled()) {
    attribute[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute[n].val.programmaticStreamSerializationAllowed = 1;
    ++n;
  }
  config.attrs = attribute;
  config.numAttrs = n;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

// The same without clusters.
template <class... KernelArgs, class... Args>
cudaError_t launch_pdl(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
                       Args&&... args) {
  return launch_pdl_cluster(kernel, grid, block, shared_bytes, 0, stream, std::forward<Args>(args)...);
}

}  // namespace eaq::kernels::cuda
