// gemv_on_host and dequantize_rows_f16_on_host (kernels/cuda/gemv_emulation.h): the kernels'
// per-lane (per-chunk) code on the CPU.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/dequantize_chunk.cuh"
#include "kernels/cuda/gemv_emulation.h"
#include "kernels/cuda/gemv_kernel.cuh"
#include "kernels/cuda/gemv_mma.cuh"

namespace eaq::kernels::cuda {

namespace {

using namespace detail;

template <class F, int B>
void emulate(const GemvArgs& a) {
  constexpr int R = gemv_rows_per_block(B);
  for (std::int64_t row0 = 0; row0 < a.rows; row0 += R) {
    float warp_sums[kGemvWarps][R][B];
    for (int warp = 0; warp < kGemvWarps; ++warp) {
      float lanes[32][R][B];
      for (int lane = 0; lane < 32; ++lane) {
        gemv_lane_partial<F, B, R>(a, row0, lane, a.lut, warp, kGemvWarps, lanes[lane]);
      }
      // __shfl_xor_sync tree: at each step every lane adds the value of lane ^ off.
      for (int off = 16; off > 0; off >>= 1) {
        float next[32][R][B];
        for (int lane = 0; lane < 32; ++lane)
          for (int r = 0; r < R; ++r)
            for (int b = 0; b < B; ++b) next[lane][r][b] = lanes[lane][r][b] + lanes[lane ^ off][r][b];
        std::memcpy(lanes, next, sizeof lanes);
      }
      std::memcpy(warp_sums[warp], lanes[0], sizeof warp_sums[warp]);
    }
    if (a.gate_rows > 0) {
      float totals[R][B];
      for (int r = 0; r < R; ++r)
        for (int b = 0; b < B; ++b) {
          totals[r][b] = 0.0f;
          for (int warp = 0; warp < kGemvWarps; ++warp) totals[r][b] += warp_sums[warp][r][b];
        }
      for (int i = 0; i < R / 2; ++i)
        for (int b = 0; b < B; ++b) store_gated_output<F, B, R>(a, row0, i, b, totals);
      continue;
    }
    for (int r = 0; r < R && row0 + r < a.rows; ++r) {
      const float rs = F::row_scale(a, row0 + r);
      for (int b = 0; b < B; ++b) {
        float total = 0.0f;
        for (int warp = 0; warp < kGemvWarps; ++warp) total += warp_sums[warp][r][b];
        store_output(a, b, row0 + r, total * rs);
      }
    }
  }
}

template <class F>
void emulate_batch(const GemvArgs& a, int batch) {
  switch (batch) {
    case 1: emulate<F, 1>(a); break;
    case 2: emulate<F, 2>(a); break;
    case 3: emulate<F, 3>(a); break;
    case 4: emulate<F, 4>(a); break;
    case 5: emulate<F, 5>(a); break;
    case 6: emulate<F, 6>(a); break;
    case 7: emulate<F, 7>(a); break;
    default: emulate<F, 8>(a); break;
  }
}

// d += A B for one mma.m16n8k16 from the 32 lanes' fragments, as PTX defines it: A[r][k] is element
// e of lane l's a (r = mma_a_row, k = mma_a_k), B[k][n] half i of register h of lane 4n + t
// (k = 2t + i + 8h), D[r][n] value i of lane 4(r % 8) + n / 2 (r = g + 8 (i / 2), n = 2t + i % 2).
void mma_16816_on_host(float (&d)[32][4], const std::uint32_t (&a)[32][4], const std::uint32_t (&b)[32][2]) {
  float am[16][16], bm[16][8];
  for (int lane = 0; lane < 32; ++lane) {
    for (int e = 0; e < 8; ++e) am[mma_a_row(lane, e)][mma_a_k(lane, e)] = fragment_value(a[lane], e);
    for (int h = 0; h < 2; ++h) {
      const float2 v = __half22float2(bits_half2(b[lane][h]));
      bm[2 * (lane & 3) + 8 * h][lane >> 2] = v.x;
      bm[2 * (lane & 3) + 8 * h + 1][lane >> 2] = v.y;
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 4; ++i) {
      const int r = (lane >> 2) + 8 * (i >> 1), n = 2 * (lane & 3) + (i & 1);
      float sum = d[lane][i];
      for (int k = 0; k < 16; ++k) sum += am[r][k] * bm[k][n];
      d[lane][i] = sum;
    }
  }
}

// The tensor-core kernel (gemv_mma.cuh) on the CPU: the same fragments, B operands (the block's
// split of x where the kernel makes one), group scales and output mapping, with 4 warps a row
// tile; each mma as mma_16816_on_host.
template <class F>
void emulate_mma(const GemvArgs& a, int batch) {
  constexpr int kWarps = 4;
  constexpr int kStepsPerGroup = kMmaStepsPerGroup<F>;
  const int n_mmas = batch <= 4 ? 1 : 2;
  const std::int64_t row_tiles = (a.rows + kMmaTileRows - 1) / kMmaTileRows, k_tiles = a.n_super;
  const std::int64_t cols_padded = k_tiles * F::kTileCols;
  std::vector<__half2> split;
  if (mma_x_in_shared(batch, cols_padded)) {
    split.resize(static_cast<std::size_t>(batch * cols_padded));
    for (std::int64_t i = 0; i < batch * cols_padded / 2; ++i) mma_split_pair(a, cols_padded, i, split.data());
  }
  for (std::int64_t tr = 0; tr < row_tiles; ++tr) {
    float acc[kWarps][2][32][4] = {};
    for (int w = 0; w < kWarps; ++w) {
      for (std::int64_t kt = w; kt < k_tiles; kt += kWarps) {
        float part[2][32][4];
        for (int j = 0; j < F::kSteps; ++j) {
          if (F::kGroup != 0 && j % kStepsPerGroup == 0) std::memset(part, 0, sizeof part);
          std::uint32_t af[32][4], bf[2][32][2];
          for (int lane = 0; lane < 32; ++lane) {
            const uint4 q = load_stream16(a.codes + (tr * k_tiles + kt) * kMmaTileBytes + lane * 16);
            F::fragment(q, j, af[lane]);
            for (int m = 0; m < n_mmas; ++m) {
              const std::int64_t c0 = kt * F::kTileCols + 16 * j;
              if (split.empty()) {
                mma_b_fragment(a, batch, m, c0, lane, bf[m][lane]);
              } else {
                mma_split_operand(mma_split_lane(split.data(), cols_padded, batch, m, lane), c0, bf[m][lane]);
              }
            }
          }
          for (int m = 0; m < n_mmas; ++m) mma_16816_on_host(F::kGroup != 0 ? part[m] : acc[w][m], af, bf[m]);
          if constexpr (F::kGroup != 0) {
            if (j % kStepsPerGroup == kStepsPerGroup - 1) {
              for (int lane = 0; lane < 32; ++lane) {
                const std::int64_t col = kt * F::kTileCols + (j / kStepsPerGroup) * kStepsPerGroup * 16;
                const float2 sc = F::group_scales(a, mma_out_row(tr * kMmaTileRows, lane, 0), col);
                for (int m = 0; m < n_mmas; ++m) {
                  for (int i = 0; i < 4; ++i) acc[w][m][lane][i] += (i < 2 ? sc.x : sc.y) * part[m][lane][i];
                }
              }
            }
          }
        }
      }
    }
    for (int lane = 0; lane < 32; ++lane) {
      for (int m = 0; m < n_mmas; ++m) {
        float total[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int w = 0; w < kWarps; ++w)
          for (int i = 0; i < 4; ++i) total[i] += acc[w][m][lane][i];
        const int b = mma_out_batch(lane, m);
        if (b >= batch) continue;
        for (int h = 0; h < 2; ++h) {
          const std::int64_t row = mma_out_row(tr * kMmaTileRows, lane, h);
          if (row < a.rows) store_output(a, b, row, mma_out_value(total, h) * F::row_scale(a, row));
        }
      }
    }
  }
}

GemvArgs host_args(const PackedGpuWeight& w, const float* x, float* y) {
  return make_gemv_args(w.codes.data(), w.code_row_bytes, w.scales.empty() ? nullptr : w.scales.data(),
                        w.scale_row_bytes, w.rows, w.cols, w.cols_padded, gemv_chunk_elems(w.dtype), x, y);
}

}  // namespace

void gemv_on_host(const PackedGpuWeight& w, const float* x, int batch, float* y, const GemvEpilogue& epilogue) {
  if (batch < 1 || batch > kMaxGemvBatch) {
    fail_streamed("gemv_on_host: batch ", batch, " is outside 1..", kMaxGemvBatch);
  }
  GemvArgs a = host_args(w, x, y);
  a.bias = epilogue.bias;
  a.accumulate = epilogue.accumulate ? 1 : 0;
  if (epilogue.gate != Gate::kNone) {
    if (w.layout != GemvLayout::chunks || w.rows % 2 != 0 || epilogue.bias != nullptr || epilogue.accumulate) {
      fail_streamed("gemv_on_host: the gated epilogue takes the chunk layout, an even row count and no bias or ",
                    "accumulation");
    }
    a.gate_rows = w.rows / 2;
    a.gelu_tanh = epilogue.gate == Gate::kGeluTanh ? 1 : 0;
  }
  if (w.layout == GemvLayout::mma_tiles) {
    const bool tiled = visit_mma_format(w.dtype, [&](auto format) {
      a.n_super = w.cols_padded / decltype(format)::kTileCols;
      emulate_mma<decltype(format)>(a, batch);
    });
    if (!tiled) fail_streamed("gemv_on_host: no tensor-core layout for ", dtype_name(w.dtype), " weights");
    return;
  }
  const bool known = visit_gemv_format(w.dtype, [&](auto format) { emulate_batch<decltype(format)>(a, batch); });
  if (!known) fail_streamed("gemv_on_host: no GPU layout for ", dtype_name(w.dtype), " weights");
}

void dequantize_rows_f16_on_host(const PackedGpuWeight& w, std::int64_t row_begin, std::int64_t n_rows,
                                 std::int64_t stride, bool apply_row_scales, std::uint16_t* out) {
  if (row_begin < 0 || n_rows < 0 || row_begin + n_rows > w.rows || stride < w.cols) {
    fail_streamed("dequantize_rows_f16_on_host: rows [", row_begin, ", ", row_begin + n_rows, ") with row stride ",
                  stride, " do not fit a [", w.rows, "][", w.cols, "] weight");
  }
  GemvArgs a = host_args(w, nullptr, nullptr);
  if (w.layout == GemvLayout::mma_tiles) {
    const bool tiled = visit_mma_format(w.dtype, [&](auto format) {
      using F = decltype(format);
      a.n_super = w.cols_padded / F::kTileCols;
      for (std::int64_t tr = row_begin / kMmaTileRows; tr * kMmaTileRows < row_begin + n_rows; ++tr) {
        for (std::int64_t kt = 0; kt < a.n_super; ++kt) {
          for (int lane = 0; lane < 32; ++lane) {
            dequantize_mma_chunk<F>(a, tr, kt, lane, apply_row_scales, [&](std::int64_t row, std::int64_t col, __half2 v) {
              if (row < row_begin || row >= row_begin + n_rows) return;
              const __half2_raw raw = v;
              out[(row - row_begin) * stride + col] = raw.x;
              out[(row - row_begin) * stride + col + 1] = raw.y;
            });
          }
        }
      }
    });
    if (!tiled) fail_streamed("dequantize_rows_f16_on_host: no tensor-core layout for ", dtype_name(w.dtype), " weights");
    return;
  }
  const bool known = visit_gemv_format(w.dtype, [&](auto format) {
    for (std::int64_t r = 0; r < n_rows; ++r) {
      for (std::int64_t c = 0; c < a.n_super * 32; ++c) {
        dequantize_chunk<decltype(format)>(a, row_begin + r, c, apply_row_scales, (stride & 1) == 0,
                                           stride % 4 == 0 && reinterpret_cast<std::uintptr_t>(out) % 8 == 0,
                                           reinterpret_cast<__half*>(out + r * stride));
      }
    }
  });
  if (!known) fail_streamed("dequantize_rows_f16_on_host: no GPU layout for ", dtype_name(w.dtype), " weights");
}

}  // namespace eaq::kernels::cuda
