// Causal prefill attention with f16 products (FlashAttention-2 style) for head_dim 64 and 128: a
// block of four warps takes 64 queries of one head (16 a warp) and walks the cache in tiles of 64
// keys through shared memory; where the grid's blocks fit one an SM, two groups of four warps on
// the same queries take every other tile and merge at the end (measured on an H100, 512 tokens:
// 24.7 against 28.6 us on the 1.3B heads; engine prefill +1-4% on the 1.3B and 1.5B shapes).
// Scores, softmax weights and the output stay in registers: Q·Kᵀ and P·V are mma.sync m16n8k16
// (f16 in, f32 accumulate); the score accumulators are re-packed as the A fragments of P·V without
// leaving the registers; K's B fragments come from ldmatrix, V's from ldmatrix.trans. Scores are
// kept in base 2 (the query carries log2 e; ex2.approx), and tiles every row of a warp sees take no
// mask (measured on an H100: the two-group form 24.7 -> 21.2 us on the 1.3B heads at 512 tokens).
// Splitting a query block's keys over several blocks (with a merge) measured slower at 512 tokens
// (7B heads 42.2 against 32.1 us) and was removed: docs/cuda.md.
//
// Precision: the query (times the attention scale) and the softmax weights are rounded to f16 once,
// as the default prefill's 16-bit GEMM activations are; K and V are f16 in the cache. About 1e-3
// relative of the output, against the f32-accurate tensor-core kernel (attention_prefill_tc.cu,
// hi + lo parts of Q and P) kept for EAQ_CUDA_PREFILL=split and other head sizes. The earlier
// kernel round-tripped scores and the output through shared memory every tile, with 4 warps an SM
// (~140 us a layer on the 1.3B shape at 512 tokens, H200); bench_engine_cuda measures this one.
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "kernels/cuda/attention_prefill_tc.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 16;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;
constexpr int kTileKeys = 64;

__device__ __forceinline__ void mma_16816(float* c, const std::uint32_t* a, std::uint32_t b0, std::uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ std::uint32_t pack_half2(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<std::uint32_t*>(&h);
}

// Four 8x8 16-bit matrices from shared memory, transposed: lane i gives the row address of
// matrix i / 8, row i % 8.
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t* r, const __half* row) {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// 16 bytes global -> shared without passing through registers; src_bytes 0 fills zeros.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, int src_bytes) {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most one committed group (the newest) is still in flight.
__device__ __forceinline__ void cp_async_wait_all_but_newest() { asm volatile("cp.async.wait_group 1;\n" ::); }

// Fragment coordinates (PTX ISA, mma.m16n8k16): g = lane / 4 is the row (and g + 8), t = lane % 4
// picks columns 2t, 2t + 1 (and 2t + 8, 2t + 9 in A).
// kStages 1: each K/V tile is loaded through registers, then computed on; 2: the next tile streams
// into a second buffer by cp.async while this one is computed on: the default where a block has one
// group of warps (measured on an H100, 2026-12-06: bench_attention_prefill 32.4 against 33.7 us on
// the 7B heads at 512 tokens, 254.5 against 295.0 at 2048; 7B engine prefill +1.0%; an earlier
// session had it slower at 512, 38.6 against 36.1: docs/cuda.md). EAQ_CUDA_PREFILL_ATTENTION_STAGES
// forces one.
template <int kLdHalves>
constexpr int tile_bytes() {
  return kTileKeys * kLdHalves * 2;
}
template <int kHd, int kStages, int kGroups>
constexpr int shared_bytes() {
  return kStages * kGroups * 2 * tile_bytes<kHd + 8>();
}

// ex2.approx: 2^x (the scores are kept in base 2: the query carries the scale times log2(e)).
__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Four 8x8 16-bit matrices from shared memory as stored: lane i gives the row address of matrix
// i / 8, row i % 8 (K's rows are the keys: the B fragments of Q·Kᵀ).
__device__ __forceinline__ void ldmatrix_x4(std::uint32_t* r, const __half* row) {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// kGroups 2 (with kStages 1): the block has two groups of four warps on the same 64 queries; each
// step loads two key tiles and group k takes the k-th, so a block's walk over the keys takes half
// as many steps. The groups' (max, sum, output) meet in shared memory at the end. For grids that
// leave SMs idle (a block an SM at most), where the longest block's walk is the kernel's time.
template <int kHd, int kStages, int kGroups>
__global__ void __launch_bounds__(32 * kWarps * kGroups)
    attention_prefill_f16_kernel(AttentionCudaParams p, const float* q, const std::int32_t* positions, int n_tokens,
                                 float* out, void* out_half, bool is_bf16) {
  static_assert(kGroups == 1 || (kGroups == 2 && kStages == 1), "two key groups take one stage");
  constexpr int kLd = kHd + 8;  // halves a shared row: 16-byte skew, conflict-free fragment loads
  constexpr int kDimTiles = kHd / 8;
  constexpr int kKSteps = kHd / 16;
  constexpr int kTileHalves = kTileKeys * kLd;
  constexpr int kThreads = 32 * kWarps * kGroups;
  constexpr float kLog2e = 1.4426950408889634f;
  extern __shared__ __align__(16) unsigned char smem[];  // kStages x kGroups x (K tile, V tile)
  __half* const tiles = reinterpret_cast<__half*>(smem);
  __shared__ int block_range[2];

  const int head = blockIdx.y;
  const int row_block = gridDim.x - 1 - blockIdx.x;  // the longest key ranges start first
  const int group = static_cast<int>(threadIdx.x) / (32 * kWarps);
  const int warp = (threadIdx.x >> 5) % kWarps, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const long long kv_stride = static_cast<long long>(p.n_kv_heads) * kHd;
  const int row0 = row_block * kRowsPerBlock + warp * kRowsPerWarp;

  // This thread's two rows: their positions and first visible keys (-1: past the chunk).
  int pos[2], start[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = row0 + g + 8 * h;
    pos[h] = row < n_tokens ? positions[row] : -1;
    start[h] = pos[h] >= 0 && p.sliding_window > 0 ? max(0, pos[h] - p.sliding_window + 1) : 0;
  }
  // The warp's and the block's key range; keys from `open_from` to `open_to` are visible to every
  // row of the warp (an empty range where a row is past the chunk), so their tiles skip the mask.
  int lo = pos[0] >= 0 ? start[0] : 0x7fffffff, hi = max(pos[0], pos[1]);
  if (pos[1] >= 0) lo = min(lo, start[1]);
  int open_from = max(start[0], start[1]), open_to = min(pos[0], pos[1]);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    lo = min(lo, __shfl_xor_sync(0xffffffffu, lo, o));
    hi = max(hi, __shfl_xor_sync(0xffffffffu, hi, o));
    open_from = max(open_from, __shfl_xor_sync(0xffffffffu, open_from, o));
    open_to = min(open_to, __shfl_xor_sync(0xffffffffu, open_to, o));
  }
  if (threadIdx.x == 0) {
    block_range[0] = 0x7fffffff;
    block_range[1] = -1;
  }
  __syncthreads();
  if (lane == 0 && hi >= 0) {
    atomicMin(&block_range[0], lo);
    atomicMax(&block_range[1], hi);
  }
  // Q fragments (times the scale and log2(e): the scores in base 2), f16, straight from global memory.
  const float q_scale = p.scale * kLog2e;
  std::uint32_t qa[kKSteps][4];
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int row = row0 + g + 8 * (r & 1), d = 16 * kk + 2 * t + 8 * (r >> 1);
      float2 v = make_float2(0.0f, 0.0f);
      if (row < n_tokens) v = *reinterpret_cast<const float2*>(q + (static_cast<long long>(row) * p.n_heads + head) * kHd + d);
      qa[kk][r] = pack_half2(v.x * q_scale, v.y * q_scale);
    }
  }
  __syncthreads();
  const int key_lo = block_range[0], key_hi = block_range[1];

  float o_acc[kDimTiles][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // l: this thread's columns only
  const __half* kc = static_cast<const __half*>(p.k_cache) + static_cast<long long>(kv_head) * kHd;
  const __half* vc = static_cast<const __half*>(p.v_cache) + static_cast<long long>(kv_head) * kHd;
  // K and V tiles of keys [first, first + 64): 16-byte pieces; keys past key_hi are zero (and
  // masked below).
  auto load_tile = [&](int stage, int first) {
    __half* k_dst = tiles + stage * 2 * kTileHalves;
    __half* v_dst = k_dst + kTileHalves;
    constexpr int kVecs = kTileKeys * kHd / 8;
    for (int i = threadIdx.x; i < kVecs; i += kThreads) {
      const int j = i / (kHd / 8), d = (i % (kHd / 8)) * 8;
      const int key = first + j;
      const bool inside = key <= key_hi;
      if constexpr (kStages == 2) {
        const long long src = static_cast<long long>(inside ? key : key_hi) * kv_stride + d;
        cp_async_16(k_dst + j * kLd + d, kc + src, inside ? 16 : 0);
        cp_async_16(v_dst + j * kLd + d, vc + src, inside ? 16 : 0);
      } else {
        uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
        if (inside) {
          kv = *reinterpret_cast<const uint4*>(kc + key * kv_stride + d);
          vv = *reinterpret_cast<const uint4*>(vc + key * kv_stride + d);
        }
        *reinterpret_cast<uint4*>(k_dst + j * kLd + d) = kv;
        *reinterpret_cast<uint4*>(v_dst + j * kLd + d) = vv;
      }
    }
  };
  const float cap2 = p.logit_softcap * kLog2e, inv_cap2 = p.logit_softcap > 0.0f ? 1.0f / cap2 : 0.0f;
  // One tile's products and online softmax for this warp's 16 rows. kMasked: some key of the tile
  // is hidden from some row (causal edge, sliding window, past the chunk) or a softcap applies.
  auto attend = [&](const __half* k_tile, const __half* v_tile, int first, auto masked) {
    constexpr bool kMasked = decltype(masked)::value;
    // S = Q Kᵀ: 16 rows x 64 keys, eight n-tiles of 8 keys; K's fragments by ldmatrix, two k-steps a load.
    float s[kTileKeys / 8][4] = {};
#pragma unroll
    for (int nt = 0; nt < kTileKeys / 8; ++nt) {
      const __half* krow = k_tile + (8 * nt + (lane & 7)) * kLd + 8 * (lane >> 3);
#pragma unroll
      for (int kk = 0; kk < kKSteps; kk += 2) {
        std::uint32_t b[4];
        ldmatrix_x4(b, krow + 16 * kk);
        mma_16816(s[nt], qa[kk], b[0], b[1]);
        mma_16816(s[nt], qa[kk + 1], b[2], b[3]);
      }
    }
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kTileKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int h = e >> 1;
        float x = s[nt][e];
        if constexpr (kMasked) {
          const int key = first + 8 * nt + 2 * t + (e & 1);
          // The softcap on the natural-log score: cap tanh(x / cap), in base 2.
          if (p.logit_softcap > 0.0f) x = cap2 * tanhf(x * inv_cap2);
          x = key >= start[h] && key <= pos[h] ? x : -INFINITY;
          s[nt][e] = x;
        }
        tile_max[h] = fmaxf(tile_max[h], x);
      }
    }
    float correction[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
      const float m_new = fmaxf(m[h], tile_max[h]);
      correction[h] = m[h] == -INFINITY ? 0.0f : exp2_approx(m[h] - m_new);
      m[h] = m_new;
      l[h] *= correction[h];
    }
#pragma unroll
    for (int nt = 0; nt < kTileKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int h = e >> 1;
        // A masked score is -inf (2^-inf = 0), but a row with nothing visible yet has m = -inf too.
        const float pe = kMasked && s[nt][e] == -INFINITY ? 0.0f : exp2_approx(s[nt][e] - m[h]);
        s[nt][e] = pe;
        l[h] += pe;
      }
    }
#pragma unroll
    for (int dt = 0; dt < kDimTiles; ++dt) {
      o_acc[dt][0] *= correction[0];
      o_acc[dt][1] *= correction[0];
      o_acc[dt][2] *= correction[1];
      o_acc[dt][3] *= correction[1];
    }
    // O += P V: the score accumulators of n-tiles 2j and 2j + 1 are P's A fragment of k-step j.
#pragma unroll
    for (int j = 0; j < kTileKeys / 16; ++j) {
      const std::uint32_t pa[4] = {pack_half2(s[2 * j][0], s[2 * j][1]), pack_half2(s[2 * j][2], s[2 * j][3]),
                                   pack_half2(s[2 * j + 1][0], s[2 * j + 1][1]),
                                   pack_half2(s[2 * j + 1][2], s[2 * j + 1][3])};
      const int mi = lane >> 3;
      const __half* vrow = v_tile + (16 * j + (mi & 1) * 8 + (lane & 7)) * kLd + 8 * (mi >> 1);
#pragma unroll
      for (int dt = 0; dt < kDimTiles; dt += 2) {
        std::uint32_t b[4];
        ldmatrix_x4_trans(b, vrow + 8 * dt);
        mma_16816(o_acc[dt], pa, b[0], b[1]);
        mma_16816(o_acc[dt + 1], pa, b[2], b[3]);
      }
    }
  };
  if (kStages == 2 && key_lo <= key_hi) {
    load_tile(0, key_lo);
    cp_async_commit();
  }
  int stage = 0;
  for (int step_first = key_lo; step_first <= key_hi;
       step_first += kTileKeys * kGroups, stage = kStages == 2 ? stage ^ 1 : 0) {
    if constexpr (kStages == 2) {
      // The other buffer was last read in the previous iteration, which ended in a barrier.
      if (step_first + kTileKeys <= key_hi) load_tile(stage ^ 1, step_first + kTileKeys);
      cp_async_commit();  // possibly empty: the wait below then still covers this tile's group
      cp_async_wait_all_but_newest();
    } else {
#pragma unroll
      for (int k = 0; k < kGroups; ++k) {
        if (k == 0 || step_first + k * kTileKeys <= key_hi) load_tile(k, step_first + k * kTileKeys);
      }
    }
    __syncthreads();
    const int first = step_first + group * kTileKeys;  // this warp's tile
    const __half* k_tile = tiles + (kStages == 2 ? stage : group) * 2 * kTileHalves;
    const __half* v_tile = k_tile + kTileHalves;
    if (first <= key_hi && hi >= first && lo < first + kTileKeys) {
      if (p.logit_softcap == 0.0f && first >= open_from && first + kTileKeys - 1 <= open_to) {
        attend(k_tile, v_tile, first, std::false_type{});
      } else {
        attend(k_tile, v_tile, first, std::true_type{});
      }
    }
    __syncthreads();  // this buffer is overwritten by a later load
  }

  if constexpr (kGroups == 2) {
    // Group 1 hands its (max, partial sum, output) to the same thread of group 0 through the tiles'
    // shared memory (free after the loop's last barrier); group 0 rescales both to the larger max.
    constexpr int kPer = 4 * kDimTiles + 4;
    float* handoff = reinterpret_cast<float*>(smem) + (threadIdx.x % (32 * kWarps)) * kPer;
    if (group == 1) {
#pragma unroll
      for (int dt = 0; dt < kDimTiles; ++dt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) handoff[4 * dt + e] = o_acc[dt][e];
      }
      handoff[4 * kDimTiles] = m[0];
      handoff[4 * kDimTiles + 1] = m[1];
      handoff[4 * kDimTiles + 2] = l[0];
      handoff[4 * kDimTiles + 3] = l[1];
    }
    __syncthreads();
    if (group == 1) return;
    float c_self[2], c_other[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const float m_other = handoff[4 * kDimTiles + h];
      const float m_new = fmaxf(m[h], m_other);
      c_self[h] = m[h] == -INFINITY ? 0.0f : exp2_approx(m[h] - m_new);
      c_other[h] = m_other == -INFINITY ? 0.0f : exp2_approx(m_other - m_new);
      l[h] = l[h] * c_self[h] + handoff[4 * kDimTiles + 2 + h] * c_other[h];
    }
#pragma unroll
    for (int dt = 0; dt < kDimTiles; ++dt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) o_acc[dt][e] = o_acc[dt][e] * c_self[e >> 1] + handoff[4 * dt + e] * c_other[e >> 1];
    }
  }
  // Normalise and write: row g (h = 0) and g + 8 (h = 1), dims 8 dt + 2t, + 1.
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = row0 + g + 8 * h;
    if (row >= n_tokens) continue;
    const float inv_l = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
    const long long base = (static_cast<long long>(row) * p.n_heads + head) * kHd;
#pragma unroll
    for (int dt = 0; dt < kDimTiles; ++dt) {
      const int d = 8 * dt + 2 * t;
      const float2 v = make_float2(o_acc[dt][2 * h] * inv_l, o_acc[dt][2 * h + 1] * inv_l);
      *reinterpret_cast<float2*>(out + base + d) = v;
      if (out_half) {
        store_half(out_half, base + d, v.x, is_bf16);
        store_half(out_half, base + d + 1, v.y, is_bf16);
      }
    }
  }
}

template <int kHd, int kStages, int kGroups>
void launch_f16(const AttentionCudaParams& params, const float* q, const std::int32_t* positions, int n_tokens,
                float* out, void* out_half, bool bf16, cudaStream_t stream) {
  constexpr int bytes = shared_bytes<kHd, kStages, kGroups>();
  if constexpr (bytes > 48 * 1024) {
    // Above the 48 KiB default (host-side, cheap); every GPU eaq runs on (sm_80+) allows it.
    EAQ_CUDA_CHECK(cudaFuncSetAttribute(attention_prefill_f16_kernel<kHd, kStages, kGroups>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  }
  const dim3 grid((n_tokens + kRowsPerBlock - 1) / kRowsPerBlock, params.n_heads);
  attention_prefill_f16_kernel<kHd, kStages, kGroups>
      <<<grid, 32 * kWarps * kGroups, bytes, stream>>>(params, q, positions, n_tokens, out, out_half, bf16);
}

template <int kHd>
void launch_f16_dim(int stages, int groups, const AttentionCudaParams& params, const float* q,
                    const std::int32_t* positions, int n_tokens, float* out, void* out_half, bool bf16,
                    cudaStream_t stream) {
  if (stages == 2) {
    launch_f16<kHd, 2, 1>(params, q, positions, n_tokens, out, out_half, bf16, stream);
  } else if (groups == 2) {
    launch_f16<kHd, 1, 2>(params, q, positions, n_tokens, out, out_half, bf16, stream);
  } else {
    launch_f16<kHd, 1, 1>(params, q, positions, n_tokens, out, out_half, bf16, stream);
  }
}

// 1 or 2 from the variable `name` (an A/B switch), 0 when unset or empty; anything else is an error
// naming it and what unsetting it does (`rule`).
int one_or_two_from_env(const char* name, const char* rule) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 0;
  if (std::strcmp(v, "1") == 0) return 1;
  if (std::strcmp(v, "2") == 0) return 2;
  fail("{}='{}' is not 1 or 2 (unset it for the rule: {})", name, v, rule);
}

// EAQ_CUDA_PREFILL_ATTENTION_STAGES forces the K/V stages, EAQ_CUDA_PREFILL_ATTENTION_GROUPS the
// key groups; read once.
int stages_from_env() {
  static const int stages =
      one_or_two_from_env("EAQ_CUDA_PREFILL_ATTENTION_STAGES", "two where the key groups are one");
  return stages;
}

int groups_from_env() {
  static const int groups =
      one_or_two_from_env("EAQ_CUDA_PREFILL_ATTENTION_GROUPS", "two where the blocks fit one an SM");
  return groups;
}

}  // namespace

bool attention_prefill_f16(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                           int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream,
                           int stages, int key_groups) {
  if (params.head_dim != 64 && params.head_dim != 128) return false;
  EAQ_CHECK(stages >= 0 && stages <= 2, "attention_prefill_f16: stages {} (0, 1 or 2)", stages);
  EAQ_CHECK(key_groups >= 0 && key_groups <= 2 && !(key_groups == 2 && stages == 2),
            "attention_prefill_f16: key_groups {} (0, 1, or 2 with one stage)", key_groups);
  if (stages == 0 && key_groups != 2) stages = stages_from_env();
  if (key_groups == 0) key_groups = stages == 2 ? 1 : groups_from_env();
  if (key_groups == 0) {
    // Two key groups where every block has an SM to itself (e.g. 8 query blocks x 16 heads = 128
    // on 132 SMs): the block walking the most keys then sets the time and halving its walk pays;
    // with more blocks than SMs a second wave would cost more.
    const long long blocks = static_cast<long long>((n_tokens + kRowsPerBlock - 1) / kRowsPerBlock) * params.n_heads;
    key_groups = blocks <= multiprocessor_count() ? 2 : 1;
  }
  // One group: the next K/V tile streams in (cp.async) during this one's products.
  if (stages == 0) stages = key_groups == 2 ? 1 : 2;
  const bool bf16 = half_dtype == DType::BF16;
  if (params.head_dim == 128) {
    launch_f16_dim<128>(stages, key_groups, params, q, positions, n_tokens, out, out_half, bf16, stream);
  } else {
    launch_f16_dim<64>(stages, key_groups, params, q, positions, n_tokens, out, out_half, bf16, stream);
  }
  EAQ_CUDA_CHECK(cudaGetLastError());
  return true;
}

}  // namespace eaq::kernels::cuda
