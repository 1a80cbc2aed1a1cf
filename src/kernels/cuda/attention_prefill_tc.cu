// Causal attention for a chunk of query tokens on the tensor cores (flash-attention style): a
// block takes 16 queries a warp of one head and walks the cache in tiles of 64 keys with an
// online softmax, so no n x n score matrix exists. Scores Q·Kᵀ and the weighted sum P·V are WMMA
// 16x16x16 f16 products with f32 accumulation.
//
// Precision: the cache is f16, so K and V enter the products exactly. The f32 query (times the
// attention scale) and the f32 softmax weights are each split into a high f16 part and the f16 of the
// remainder, and both parts are multiplied (two products each), so the result matches f32
// arithmetic to about 2^-22 relative instead of f16's 2^-11. Attention is about 1% of a
// prefill's FLOPs; the doubled products cost little.
//
// Shared memory per warp: Q hi/lo, the 16 x 64 scores (f32), P hi/lo and the running output
// (f32, rescaled in place); per block: the K and V tiles. Two lanes per query row do its softmax
// and rescaling, visiting columns in a per-lane rotated order so the lanes hit different banks.
// The warps per block are chosen at launch so that fits the device's opt-in limit; where even one
// warp does not fit, attention_prefill uses the warp-per-query kernel.
//
// What limits it (ncu, H200, 1.3B shape, 512 tokens): 4 warps an SM (the shared memory above),
// so one warp per scheduler issuing every ~6 cycles: ~140 us a layer, against ~310 us for the
// warp-per-query kernel. A register-resident (mma.sync, FlashAttention-2 style) kernel with many
// more warps an SM is the next step.
#include <cuda_fp16.h>
#include <mma.h>

#include <cstdint>

#include "kernels/cuda/attention_prefill_tc.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_math.cuh"

namespace eaq::kernels::cuda {

namespace {

using namespace nvcuda;

constexpr int kTileKeys = 64;
constexpr int kRowsPerWarp = 16;
constexpr int kGroup = 4;  // 16x16 output blocks a warp keeps in flight (independent accumulators)

// Shared-memory layout for `warps` warps and a head padded to `hdp` (a multiple of 16). Row
// strides carry a 16-byte skew so the rows of a WMMA tile fall in different banks; every region
// is a multiple of 32 bytes (WMMA pointers must be 32-byte aligned).
struct TcLayout {
  int hdp, warps;
  __host__ __device__ int ld_q() const { return hdp + 8; }       // halves: Q hi / lo, K and V tiles
  __host__ __device__ int ld_o() const { return hdp + 4; }       // floats: the running output
  static constexpr int kLdS = kTileKeys + 4;                     // floats: scores
  static constexpr int kLdP = kTileKeys + 8;                     // halves: softmax weights hi / lo
  __host__ __device__ int q_bytes() const { return kRowsPerWarp * ld_q() * 2; }  // one of hi / lo
  __host__ __device__ int s_bytes() const { return kRowsPerWarp * kLdS * 4; }
  __host__ __device__ int p_bytes() const { return kRowsPerWarp * kLdP * 2; }    // one of hi / lo
  __host__ __device__ int o_bytes() const { return kRowsPerWarp * ld_o() * 4; }
  __host__ __device__ int rows_bytes() const { return 2 * kRowsPerWarp * 4 + 64; }  // position, start; padded
  __host__ __device__ int warp_bytes() const { return 2 * q_bytes() + s_bytes() + 2 * p_bytes() + o_bytes() + rows_bytes(); }
  __host__ __device__ int kv_bytes() const { return kTileKeys * ld_q() * 2; }  // one of K / V
  __host__ __device__ int total() const { return 2 * kv_bytes() + warps * warp_bytes() + 32; }
};

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major>;
using FragAcc = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

__global__ void attention_prefill_tc_kernel(AttentionCudaParams p, TcLayout lay, const float* q,
                                            const std::int32_t* positions, int n_tokens, float* out, void* out_half,
                                            bool is_bf16) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int hd = p.head_dim, hdp = lay.hdp, ldq = lay.ld_q(), ldo = lay.ld_o();
  constexpr int kLdS = TcLayout::kLdS, kLdP = TcLayout::kLdP;
  const int head = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int n_threads = blockDim.x;
  const int kv_head = head / (p.n_heads / p.n_kv_heads);
  const long long kv_stride = static_cast<long long>(p.n_kv_heads) * hd;

  // Carve shared memory.
  __half* k_tile = reinterpret_cast<__half*>(smem);
  __half* v_tile = reinterpret_cast<__half*>(smem + lay.kv_bytes());
  int* range = reinterpret_cast<int*>(smem + 2 * lay.kv_bytes());  // [0] min start, [1] max position
  unsigned char* mine = smem + 2 * lay.kv_bytes() + 32 + warp * lay.warp_bytes();
  __half* q_hi = reinterpret_cast<__half*>(mine);
  __half* q_lo = reinterpret_cast<__half*>(mine + lay.q_bytes());
  float* s_tile = reinterpret_cast<float*>(mine + 2 * lay.q_bytes());
  __half* p_hi = reinterpret_cast<__half*>(mine + 2 * lay.q_bytes() + lay.s_bytes());
  __half* p_lo = reinterpret_cast<__half*>(mine + 2 * lay.q_bytes() + lay.s_bytes() + lay.p_bytes());
  float* o_acc = reinterpret_cast<float*>(mine + 2 * lay.q_bytes() + lay.s_bytes() + 2 * lay.p_bytes());
  int* row_pos = reinterpret_cast<int*>(mine + 2 * lay.q_bytes() + lay.s_bytes() + 2 * lay.p_bytes() + lay.o_bytes());
  int* row_start = row_pos + kRowsPerWarp;

  if (threadIdx.x == 0) {
    range[0] = 0x7fffffff;
    range[1] = -1;
  }
  const int first_row = (blockIdx.y * lay.warps + warp) * kRowsPerWarp;
  // The warp's query rows times the scale, split hi/lo; padding and rows past the chunk zero.
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int t = first_row + r;
    for (int d = lane; d < hdp; d += 32) {
      float x = 0.0f;
      if (t < n_tokens && d < hd) x = q[(static_cast<long long>(t) * p.n_heads + head) * hd + d] * p.scale;
      const __half hi = __float2half_rn(x);
      q_hi[r * ldq + d] = hi;
      q_lo[r * ldq + d] = __float2half_rn(x - __half2float(hi));
    }
    for (int d = lane; d < hdp; d += 32) o_acc[r * ldo + d] = 0.0f;
  }
  int rows_min = 0x7fffffff, rows_max = -1;
  if (lane < kRowsPerWarp) {
    const int t = first_row + lane;
    int position = -1, start = 0;
    if (t < n_tokens) {
      position = positions[t];
      start = p.sliding_window > 0 ? max(0, position - p.sliding_window + 1) : 0;
      rows_min = start;
      rows_max = position;
    }
    row_pos[lane] = position;
    row_start[lane] = start;
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    rows_min = min(rows_min, __shfl_xor_sync(0xffffffffu, rows_min, o));
    rows_max = max(rows_max, __shfl_xor_sync(0xffffffffu, rows_max, o));
  }
  __syncthreads();  // range initialised
  if (lane == 0 && rows_max >= 0) {
    atomicMin(&range[0], rows_min);
    atomicMax(&range[1], rows_max);
  }
  __syncthreads();
  const int key_lo = range[0], key_hi = range[1];

  // Softmax state of row my_row; the two lanes of a row hold the same values, and each owns half
  // of the row's score columns and output dims.
  const int my_row = lane >> 1, my_half = lane & 1;
  const int my_pos = row_pos[my_row], my_start = row_start[my_row];
  float m = -INFINITY, l = 0.0f;

  for (int first = key_lo; first <= key_hi; first += kTileKeys) {
    // K and V tiles (keys past key_hi, and dims past head_dim, are zero): 16-byte loads when a
    // row is a whole number of them, else 4-byte. (Double-buffering these through cp.async was
    // measured: no faster; the kernel is bound by issue with one warp per scheduler.)
    const __half* kc = static_cast<const __half*>(p.k_cache);
    const __half* vc = static_cast<const __half*>(p.v_cache);
    if ((hd & 7) == 0) {
      const int vecs = hdp / 8;
      for (int i = threadIdx.x; i < kTileKeys * vecs; i += n_threads) {
        const int j = i / vecs, d = (i - j * vecs) * 8;
        const int key = first + j;
        uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
        if (key <= key_hi && d < hd) {
          const long long off = static_cast<long long>(key) * kv_stride + static_cast<long long>(kv_head) * hd + d;
          kv = *reinterpret_cast<const uint4*>(kc + off);
          vv = *reinterpret_cast<const uint4*>(vc + off);
        }
        *reinterpret_cast<uint4*>(k_tile + j * ldq + d) = kv;
        *reinterpret_cast<uint4*>(v_tile + j * ldq + d) = vv;
      }
    } else {
      const int pairs = hdp / 2;
      for (int i = threadIdx.x; i < kTileKeys * pairs; i += n_threads) {
        const int j = i / pairs, d = (i - j * pairs) * 2;
        const int key = first + j;
        __half2 kv = __float2half2_rn(0.0f), vv = __float2half2_rn(0.0f);
        if (key <= key_hi && d < hd) {
          const long long off = static_cast<long long>(key) * kv_stride + static_cast<long long>(kv_head) * hd + d;
          kv = *reinterpret_cast<const __half2*>(kc + off);
          vv = *reinterpret_cast<const __half2*>(vc + off);
        }
        *reinterpret_cast<__half2*>(k_tile + j * ldq + d) = kv;
        *reinterpret_cast<__half2*>(v_tile + j * ldq + d) = vv;
      }
    }
    __syncthreads();
    const bool warp_sees_tile = rows_max >= first && rows_min < first + kTileKeys;
    if (warp_sees_tile) {
      // S = Q Kᵀ (hi and lo parts), 16 x 64: four independent accumulators, one per 16 keys.
      {
        FragAcc s[kTileKeys / 16];
#pragma unroll
        for (int c = 0; c < kTileKeys / 16; ++c) wmma::fill_fragment(s[c], 0.0f);
        for (int k = 0; k < hdp / 16; ++k) {
          FragA a_hi, a_lo;
          wmma::load_matrix_sync(a_hi, q_hi + k * 16, ldq);
          wmma::load_matrix_sync(a_lo, q_lo + k * 16, ldq);
#pragma unroll
          for (int c = 0; c < kTileKeys / 16; ++c) {
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
            wmma::load_matrix_sync(b, k_tile + c * 16 * ldq + k * 16, ldq);
            wmma::mma_sync(s[c], a_hi, b, s[c]);
            wmma::mma_sync(s[c], a_lo, b, s[c]);
          }
        }
#pragma unroll
        for (int c = 0; c < kTileKeys / 16; ++c) {
          wmma::store_matrix_sync(s_tile + c * 16, s[c], kLdS, wmma::mem_row_major);
        }
      }
      __syncwarp();
      // Online softmax: lane (row r, half h) takes 32 of its row's 64 keys, visiting column c
      // as (c + rot) & 31 so the warp's 32 lanes touch 32 different banks; the two lanes of a
      // row meet by one shuffle.
      {
        const int rot = 2 * my_half + (my_row >> 3);
        float* srow = s_tile + my_row * kLdS + 32 * my_half;
        const int key0 = first + 32 * my_half;
        float tile_max = -INFINITY;
#pragma unroll 8
        for (int i = 0; i < 32; ++i) {
          const int c = (i + rot) & 31;
          const int key = key0 + c;
          float x = -INFINITY;
          if (key >= my_start && key <= my_pos) {
            x = srow[c];
            if (p.logit_softcap > 0.0f) x = p.logit_softcap * tanhf(x / p.logit_softcap);
          }
          srow[c] = x;
          tile_max = fmaxf(tile_max, x);
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        const float m_new = fmaxf(m, tile_max);
        const float correction = m == -INFINITY ? 0.0f : __expf(m - m_new);
        __half* phi = p_hi + my_row * kLdP + 32 * my_half;
        __half* plo = p_lo + my_row * kLdP + 32 * my_half;
        float sum = 0.0f;
#pragma unroll 8
        for (int i = 0; i < 32; ++i) {
          const int c = (i + rot) & 31;
          const float x = srow[c];
          const float pc = x == -INFINITY ? 0.0f : __expf(x - m_new);
          sum += pc;
          const __half hi = __float2half_rn(pc);
          phi[c] = hi;
          plo[c] = __float2half_rn(pc - __half2float(hi));
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        l = l * correction + sum;
        m = m_new;
        if (correction != 1.0f) {
          const int half_dims = hdp / 2;
          float* orow = o_acc + my_row * ldo + half_dims * my_half;
#pragma unroll 8
          for (int i = 0; i < half_dims; ++i) {
            int d = i + rot;
            if (d >= half_dims) d -= half_dims;
            orow[d] *= correction;
          }
        }
      }
      __syncwarp();  // P and the rescaled O are read across lanes below
      // O += P V (hi and lo parts of P), kGroup output blocks of 16 dims at a time.
      for (int c0 = 0; c0 < hdp / 16; c0 += kGroup) {
        const int n_c = min(kGroup, hdp / 16 - c0);
        FragAcc o[kGroup];
#pragma unroll
        for (int g = 0; g < kGroup; ++g) {
          if (g < n_c) wmma::load_matrix_sync(o[g], o_acc + (c0 + g) * 16, ldo, wmma::mem_row_major);
        }
#pragma unroll
        for (int k = 0; k < kTileKeys / 16; ++k) {
          FragA a_hi, a_lo;
          wmma::load_matrix_sync(a_hi, p_hi + k * 16, kLdP);
          wmma::load_matrix_sync(a_lo, p_lo + k * 16, kLdP);
#pragma unroll
          for (int g = 0; g < kGroup; ++g) {
            if (g < n_c) {
              wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> b;
              wmma::load_matrix_sync(b, v_tile + k * 16 * ldq + (c0 + g) * 16, ldq);
              wmma::mma_sync(o[g], a_hi, b, o[g]);
              wmma::mma_sync(o[g], a_lo, b, o[g]);
            }
          }
        }
#pragma unroll
        for (int g = 0; g < kGroup; ++g) {
          if (g < n_c) wmma::store_matrix_sync(o_acc + (c0 + g) * 16, o[g], ldo, wmma::mem_row_major);
        }
      }
    }
    __syncthreads();  // the next tile overwrites K and V
  }
  __syncwarp();

  // Normalise and write this lane's half of its row.
  const int t = first_row + my_row;
  if (t < n_tokens) {
    const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
    const long long base = (static_cast<long long>(t) * p.n_heads + head) * hd;
    const int half_dims = hdp / 2;
    for (int d = half_dims * my_half; d < min(hd, half_dims * (my_half + 1)); ++d) {
      const float v = o_acc[my_row * ldo + d] * inv_l;
      out[base + d] = v;
      if (out_half) store_half(out_half, base + d, v, is_bf16);
    }
  }
}

// The largest warps-per-block (4, 2 or 1) whose shared memory fits the device's opt-in limit;
// 0 if none does.
int pick_warps(int hdp, int optin_bytes) {
  for (int w : {4, 2, 1}) {
    if (TcLayout{hdp, w}.total() <= optin_bytes) return w;
  }
  return 0;
}

}  // namespace

bool attention_prefill_tc(const AttentionCudaParams& params, const float* q, const std::int32_t* positions,
                          int n_tokens, float* out, void* out_half, DType half_dtype, cudaStream_t stream) {
  int device = 0, optin = 0;
  EAQ_CUDA_CHECK(cudaGetDevice(&device));
  EAQ_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const int hdp = (params.head_dim + 15) / 16 * 16;
  const int warps = pick_warps(hdp, optin);
  if (warps == 0) return false;
  const TcLayout lay{hdp, warps};
  const int bytes = lay.total();
  // Allow this launch's dynamic shared memory (above the 48 KiB default); host-side, cheap.
  EAQ_CUDA_CHECK(cudaFuncSetAttribute(attention_prefill_tc_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  const int rows_per_block = warps * kRowsPerWarp;
  const dim3 grid(params.n_heads, (n_tokens + rows_per_block - 1) / rows_per_block);
  attention_prefill_tc_kernel<<<grid, 32 * warps, bytes, stream>>>(params, lay, q, positions, n_tokens, out, out_half,
                                                                   half_dtype == DType::BF16);
  EAQ_CUDA_CHECK(cudaGetLastError());
  return true;
}

}  // namespace eaq::kernels::cuda
