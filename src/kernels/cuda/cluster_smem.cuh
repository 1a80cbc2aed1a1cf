// Shared-memory barriers (mbarrier) and cluster addresses for the sm_90 kernels that hand data
// between the blocks of a cluster: the cluster decode attention's pushed merge
// (attention_decode_cluster.cu) and the tensor-core GEMV's sums (gemv_mma_cluster.cu).
// Addresses are 32-bit shared-memory addresses (__cvta_generic_to_shared). The instructions exist
// from sm_90 on; compiled for an earlier GPU these do nothing (their callers run only on sm_90+).
#pragma once

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define EAQ_CLUSTER_SMEM 1
#else
#define EAQ_CLUSTER_SMEM 0
#endif

namespace eaq::kernels::cuda::detail {

// The address of `address` (this block's shared memory) in block `rank` of the cluster.
__device__ __forceinline__ unsigned cluster_address(unsigned address, int rank) {
  unsigned mapped = address;
#if EAQ_CLUSTER_SMEM
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(mapped) : "r"(address), "r"(rank));
#endif
  return mapped;
}

// mbarrier `bar` set up for `arrivals` arrivals.
__device__ __forceinline__ void mbarrier_init(unsigned bar, unsigned arrivals) {
#if EAQ_CLUSTER_SMEM
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals) : "memory");
#endif
}

// One arrival on `bar` that also expects `bytes` more to land on it (complete_tx).
__device__ __forceinline__ void mbarrier_arrive_expect_tx(unsigned bar, unsigned bytes) {
#if EAQ_CLUSTER_SMEM
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
#endif
}

// Makes this thread's mbarrier initialisations visible to the cluster and the async proxy.
__device__ __forceinline__ void fence_mbarrier_init() {
#if EAQ_CLUSTER_SMEM
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

// Waits until the phase of `bar` with parity `parity` has completed, acquiring at cluster scope
// (data stored by other blocks of the cluster).
__device__ __forceinline__ void mbarrier_wait_cluster(unsigned bar, unsigned parity) {
#if EAQ_CLUSTER_SMEM
  unsigned done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
        " selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (done == 0);
#endif
}

}  // namespace eaq::kernels::cuda::detail
