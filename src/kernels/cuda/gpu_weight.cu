// upload_weight / free_weight: a host weight in its packed eaq format → the GPU layout that the decode
// GEMV reads: code chunks (gemv_formats.cuh describes each format's) or, for i8_ch / i4s / q4_0,
// tensor-core tiles (gemv_mma.cuh); each reader and this file must agree. Values are never
// changed: f16/bf16/int8/fp8/4-bit codes are copied bit for bit (reordered into the kernel's pieces),
// scales are copied or unpacked (q4_K's 6-bit scales to bytes), and the row is zero-padded to a
// whole super-chunk (zero codes and zero scales decode to 0).
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/eaq_quant_blocks.h"
#include "core/quant_blocks.h"
#include "kernels/cuda/cuda_gemv.h"
#include "kernels/cuda/gemv_mma.cuh"
#include "kernels/cuda/gpu_weight.h"

namespace eaq::kernels::cuda {

namespace {

void check_cuda(cudaError_t e, const char* what, const WeightRef& w) {
  if (e != cudaSuccess) {
    fail_streamed("uploading a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "] to the GPU: ", what, " failed: ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
  }
}

void* device_alloc(std::size_t bytes, const WeightRef& w, const char* part) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();  // reset the last-error state so later launches are not blamed
    std::size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    int device = -1;
    cudaGetDevice(&device);
    fail_streamed("uploading a ", dtype_name(w.dtype), " weight [", w.rows, "][", w.cols, "]: out of GPU memory allocating its ", part, " (", bytes, " bytes) on cuda:", device, ", which has ", free_bytes, " bytes free of ", total_bytes, " (", cudaGetErrorString(e), "). Use a smaller model or precision, or a GPU with more memory.");
  }
  return p;
}

// Byte offset in a GPU code row of the piece holding positions pos .. pos + 3 (pos % 4 == 0), and
// for 4-bit codes whether the piece is in the high nibbles (gemv_formats.cuh: piece p of lane l of
// super-chunk s holds positions s*S + p*128 + 4l .. +3; 16-bit piece p = bytes 8p..8p+7, 8-bit piece
// p = bytes 4p..4p+3, 4-bit piece p = nibbles of bytes 4(p%4)..+3, high for p >= 4).
struct PieceSlot {
  std::size_t byte;
  bool high;
};
PieceSlot piece_slot(std::int64_t pos, int bits) {
  const std::int64_t super = 32 * (128 / bits);
  const std::int64_t s = pos / super, in = pos % super;
  const std::int64_t piece = in / 128, lane = (in % 128) / 4;
  const std::size_t chunk = static_cast<std::size_t>(s * 512 + lane * 16);
  if (bits == 4) return {chunk + static_cast<std::size_t>(4 * (piece % 4)), piece >= 4};
  return {chunk + static_cast<std::size_t>(piece * 4 * (bits / 8)), false};
}

// f16/bf16 (2-byte) and per-row int8/fp8 (1-byte, f32 row header) codes, copied piece by piece.
PackedGpuWeight repack_plain(const WeightRef& w, int elem_bytes, bool row_header, std::int64_t cols_padded) {
  PackedGpuWeight out;
  out.code_row_bytes = static_cast<std::size_t>(cols_padded) * elem_bytes;
  out.codes.assign(out.code_row_bytes * static_cast<std::size_t>(w.rows), 0);
  if (row_header) out.scales.assign(static_cast<std::size_t>(w.rows) * 4, 0);
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  for (std::int64_t r = 0; r < w.rows; ++r) {
    const std::uint8_t* src = base + static_cast<std::size_t>(r) * w.row_stride_bytes;
    if (row_header) {
      std::memcpy(out.scales.data() + r * 4, src, 4);
      src += kChannelRowHeaderBytes;
    }
    std::uint8_t* dst = out.codes.data() + static_cast<std::size_t>(r) * out.code_row_bytes;
    for (std::int64_t pos = 0; pos < w.cols; pos += 4) {  // cols % 8 == 0 (checked)
      const PieceSlot slot = piece_slot(pos, 8 * elem_bytes);
      std::memcpy(dst + slot.byte, src + pos * elem_bytes, static_cast<std::size_t>(4 * elem_bytes));
    }
  }
  return out;
}

// Block formats: codes of `bits` (8 or 4) per weight read by code_of(row bytes, position) into the
// piece layout; each block's scale field (scale_bytes at scale_offset) copied to
// [rows][cols_padded / block]. Padding stays zero (zero scale: the value 0 whatever the code).
template <class CodeOf>
PackedGpuWeight repack_blocks(const WeightRef& w, std::int64_t cols_padded, int bits, int block,
                              std::size_t scale_offset, std::size_t scale_bytes, CodeOf code_of) {
  PackedGpuWeight out;
  const std::size_t block_bytes = traits(w.dtype).block_bytes;
  out.code_row_bytes = static_cast<std::size_t>(cols_padded) * bits / 8;
  out.scale_row_bytes = static_cast<std::size_t>(cols_padded / block) * scale_bytes;
  out.codes.assign(out.code_row_bytes * static_cast<std::size_t>(w.rows), 0);
  out.scales.assign(out.scale_row_bytes * static_cast<std::size_t>(w.rows), 0);
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  for (std::int64_t r = 0; r < w.rows; ++r) {
    const std::uint8_t* src = base + static_cast<std::size_t>(r) * w.row_stride_bytes;
    std::uint8_t* codes = out.codes.data() + static_cast<std::size_t>(r) * out.code_row_bytes;
    std::uint8_t* scales = out.scales.data() + static_cast<std::size_t>(r) * out.scale_row_bytes;
    for (std::int64_t b = 0; scale_bytes > 0 && b < w.cols / block; ++b) {  // q4_K writes its own
      std::memcpy(scales + b * scale_bytes, src + b * block_bytes + scale_offset, scale_bytes);
    }
    for (std::int64_t pos = 0; pos < w.cols; pos += 4) {
      const PieceSlot slot = piece_slot(pos, bits);
      for (int i = 0; i < 4; ++i) {
        const std::uint8_t c = code_of(src, pos + i);
        if (bits == 8) {
          codes[slot.byte + i] = c;
        } else {
          codes[slot.byte + i] |= static_cast<std::uint8_t>(slot.high ? c << 4 : c);
        }
      }
    }
  }
  return out;
}

// The 4-bit code of weight e of a row of blocks of g weights whose codes start at qs_offset and
// follow the q4_0 order (core/eaq_quant_blocks.h: per 32 weights, byte j = weight j low nibble and
// weight j + 16 high nibble): i4s, q4_0, nf4.
std::uint8_t nibble_q4_0_order(const std::uint8_t* row, std::int64_t e, int g, std::size_t block_bytes,
                               std::size_t qs_offset) {
  const std::uint8_t* qs = row + static_cast<std::size_t>(e / g) * block_bytes + qs_offset;
  const int j = static_cast<int>(e % g), t = j % 32;
  const std::uint8_t byte = qs[(j / 32) * 16 + t % 16];
  return t < 16 ? byte & 0x0f : byte >> 4;
}

// q4_K: codes as every 4-bit format; scales row = (d, dmin) f16 per super-block, then
// (scale | min << 8) per 32-weight sub-block (the 6-bit values unpacked as ggml's get_scale_min_k4).
PackedGpuWeight repack_q4_k(const WeightRef& w, std::int64_t cols_padded) {
  // ggml's q4_K codes: 64-weight piece i = qs[32i .. 32i+31], low nibbles weights 64i + t, high
  // nibbles weights 64i + 32 + t.
  PackedGpuWeight out = repack_blocks(w, cols_padded, 4, kQK_K, 0, 0, [](const std::uint8_t* row, std::int64_t e) {
    const std::uint8_t* qs = row + static_cast<std::size_t>(e / kQK_K) * sizeof(block_q4_K) + offsetof(block_q4_K, qs);
    const int t = static_cast<int>(e % kQK_K), u = t % 64;
    const std::uint8_t byte = qs[32 * (t / 64) + u % 32];
    return static_cast<std::uint8_t>(u < 32 ? byte & 0x0f : byte >> 4);
  });
  const std::size_t supers_padded = static_cast<std::size_t>(cols_padded / kQK_K);
  const std::size_t supers = static_cast<std::size_t>(w.cols / kQK_K);
  out.scale_row_bytes = supers_padded * 4 + supers_padded * 8 * 2;
  out.scales.assign(out.scale_row_bytes * static_cast<std::size_t>(w.rows), 0);
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  for (std::int64_t r = 0; r < w.rows; ++r) {
    const std::uint8_t* src = base + static_cast<std::size_t>(r) * w.row_stride_bytes;
    std::uint8_t* dm = out.scales.data() + static_cast<std::size_t>(r) * out.scale_row_bytes;
    std::uint8_t* sm = dm + supers_padded * 4;
    for (std::size_t b = 0; b < supers; ++b) {
      block_q4_K blk;
      std::memcpy(&blk, src + b * sizeof(block_q4_K), sizeof blk);  // the row stride need not align blocks
      std::memcpy(dm + b * 4, &blk.d, 2);
      std::memcpy(dm + b * 4 + 2, &blk.dmin, 2);
      for (int j = 0; j < 8; ++j) {
        const std::uint8_t* q = blk.scales;
        std::uint8_t sc, mn;
        if (j < 4) {
          sc = q[j] & 63;
          mn = q[j + 4] & 63;
        } else {
          sc = static_cast<std::uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
          mn = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
        const std::uint16_t packed = static_cast<std::uint16_t>(sc | (mn << 8));
        std::memcpy(sm + (b * 8 + j) * 2, &packed, 2);
      }
    }
  }
  return out;
}

template <int G>
PackedGpuWeight repack_i4s(const WeightRef& w, std::int64_t cols_padded) {
  return repack_blocks(w, cols_padded, 4, G, offsetof(block_i4s<G>, d), 2, [](const std::uint8_t* row, std::int64_t e) {
    return nibble_q4_0_order(row, e, G, sizeof(block_i4s<G>), offsetof(block_i4s<G>, qs));
  });
}

// The tensor-core layout (gemv_mma.cuh): rows rounded up to 16 and columns to cols_padded, tile
// by tile. code_of(row bytes, position) is the stored code (4-bit: the nibble; 8-bit: the signed
// byte ^ 0x80, so 0x80 is zero and fills the padding). Group formats (group > 0) copy each block's
// f16 scale field (at scale_offset) to [rows_padded / 16][cols_padded / group][8][2] (rows g and
// g + 8 of a tile side by side: gemv_mma.cuh); per-row formats (group 0) the f32 row header to
// [rows_padded]. Padding scales stay zero.
template <class CodeOf>
PackedGpuWeight repack_mma_tiles(const WeightRef& w, std::int64_t cols_padded, int bits, int group,
                                 std::size_t scale_offset, CodeOf code_of) {
  using namespace detail;
  const int tile_cols = bits == 4 ? MmaI4S<32>::kTileCols : MmaI8Row::kTileCols;
  const std::int64_t rows_padded = (w.rows + kMmaTileRows - 1) / kMmaTileRows * kMmaTileRows;
  const std::int64_t k_tiles = cols_padded / tile_cols;
  PackedGpuWeight out;
  out.layout = GemvLayout::mma_tiles;
  out.cols_padded = cols_padded;
  out.code_row_bytes = static_cast<std::size_t>(cols_padded) * bits / 8;
  out.codes.assign(out.code_row_bytes * static_cast<std::size_t>(rows_padded), bits == 8 ? 0x80 : 0);
  if (group > 0) {
    out.scale_row_bytes = static_cast<std::size_t>(cols_padded / group) * 2;
    out.scales.assign(out.scale_row_bytes * static_cast<std::size_t>(rows_padded), 0);
  } else {
    out.scales.assign(static_cast<std::size_t>(rows_padded) * 4, 0);
  }
  const std::size_t block_bytes = traits(w.dtype).block_bytes;
  const auto* base = static_cast<const std::uint8_t*>(w.data);
  for (std::int64_t r = 0; r < w.rows; ++r) {
    const std::uint8_t* src = base + static_cast<std::size_t>(r) * w.row_stride_bytes;
    if (group > 0) {  // [rows_padded / 16][groups][8][2]: rows g and g + 8 of a row tile side by side
      const std::int64_t groups = cols_padded / group, tile = r / kMmaTileRows, in = r % kMmaTileRows;
      for (std::int64_t b = 0; b < w.cols / group; ++b) {
        const std::int64_t index = ((tile * groups + b) * 8 + in % 8) * 2 + in / 8;
        std::memcpy(out.scales.data() + index * 2, src + b * block_bytes + scale_offset, 2);
      }
    } else {
      std::memcpy(out.scales.data() + r * 4, src, 4);
    }
    const std::int64_t tr = r / kMmaTileRows;
    const int rr = static_cast<int>(r % kMmaTileRows);
    for (std::int64_t c = 0; c < w.cols; ++c) {
      const std::int64_t kt = c / tile_cols;
      const int in_tile = static_cast<int>(c % tile_cols), j = in_tile / 16, kk = in_tile % 16;
      const int lane = mma_lane_of(rr, kk), e = mma_element_of(rr, kk);
      std::uint8_t* chunk = out.codes.data() + static_cast<std::size_t>((tr * k_tiles + kt) * kMmaTileBytes + lane * 16);
      const std::uint8_t code = code_of(src, c);
      if (bits == 8) {
        chunk[(2 * j + e / 4) * 4 + e % 4] = code;
      } else {
        const int nibble = mma_nibble_of(e);
        chunk[j * 4 + nibble / 2] |= static_cast<std::uint8_t>(nibble % 2 ? code << 4 : code);
      }
    }
  }
  return out;
}

template <int G>
PackedGpuWeight repack_i4s_tiles(const WeightRef& w) {
  constexpr std::int64_t kStep = G > 64 ? G : 64;  // whole column tiles and whole groups
  return repack_mma_tiles(w, (w.cols + kStep - 1) / kStep * kStep, 4, G, offsetof(block_i4s<G>, d), [](const std::uint8_t* row, std::int64_t e) {
    return nibble_q4_0_order(row, e, G, sizeof(block_i4s<G>), offsetof(block_i4s<G>, qs));
  });
}

PackedGpuWeight pack_mma_tiles(const WeightRef& host) {
  using namespace detail;
  const auto round_up = [&](std::int64_t m) { return (host.cols + m - 1) / m * m; };
  switch (host.dtype) {
    case DType::I8_CH:
      return repack_mma_tiles(host, round_up(MmaI8Row::kTileCols), 8, 0, 0, [](const std::uint8_t* row, std::int64_t e) {
        return static_cast<std::uint8_t>(row[kChannelRowHeaderBytes + static_cast<std::size_t>(e)] ^ 0x80u);
      });
    case DType::Q4_0:
      return repack_mma_tiles(host, round_up(64), 4, kQK4_0, offsetof(block_q4_0, d),
                              [](const std::uint8_t* row, std::int64_t e) {
                                return nibble_q4_0_order(row, e, kQK4_0, sizeof(block_q4_0), offsetof(block_q4_0, qs));
                              });
    case DType::I4S_G32: return repack_i4s_tiles<32>(host);
    case DType::I4S_G64: return repack_i4s_tiles<64>(host);
    case DType::I4S_G128: return repack_i4s_tiles<128>(host);
    default:
      fail_streamed("the tensor-core GEMV layout has no ", dtype_name(host.dtype), " weights ([", host.rows, "][", host.cols,
                    "]); it takes i8_ch, i4s_g32/g64/g128 and q4_0. Upload it in the chunk layout.");
  }
}

}  // namespace

bool has_mma_layout(DType dtype) {
  return detail::visit_mma_format(dtype, [](auto) {});
}

GemvLayout default_gemv_layout(DType dtype) {
  // 0: chunks for every format; 1 (unset): tiles for the int4 formats; all: i8_ch too.
  enum class Tiles { none, int4, all };
  static const Tiles tiles = [] {
    const char* v = std::getenv("EAQ_CUDA_MMA_GEMV");
    if (v == nullptr || std::strcmp(v, "1") == 0) return Tiles::int4;
    if (std::strcmp(v, "0") == 0) return Tiles::none;
    if (std::strcmp(v, "all") == 0) return Tiles::all;
    fail_streamed("EAQ_CUDA_MMA_GEMV='", v, "': give 1 (the tensor-core GEMV for i4s and q4_0 weights, ",
                  "the default), all (i8_ch too) or 0 (the CUDA-core GEMV for every format)");
  }();
  // int8 stays in chunks by default: its tensor-core kernel decoded Llama-2-7B at 283.6 tok/s
  // against the chunk kernel's 330 (H200, bench_engine_cuda); the int4 formats gain (302.7 ->
  // 356.4 tok/s: docs/cuda.md). `all` re-measures int8 on the tiles.
  const bool tiled = tiles == Tiles::all || (tiles == Tiles::int4 && dtype != DType::I8_CH);
  return tiled && has_mma_layout(dtype) ? GemvLayout::mma_tiles : GemvLayout::chunks;
}

int gemv_chunk_elems(DType dtype) {
  switch (dtype) {
    case DType::F16:
    case DType::BF16: return 8;
    case DType::I8_CH:
    case DType::F8_E4M3_CH:
    case DType::Q8_0: return 16;
    case DType::I4S_G32:
    case DType::I4S_G64:
    case DType::I4S_G128:
    case DType::Q4_0:
    case DType::NF4:
    case DType::Q4_K: return 32;
    default: return 0;
  }
}

bool gemv_supports(DType dtype) { return gemv_chunk_elems(dtype) != 0; }

PackedGpuWeight pack_for_gpu(const WeightRef& host) { return pack_for_gpu(host, default_gemv_layout(host.dtype)); }

PackedGpuWeight pack_for_gpu(const WeightRef& host, GemvLayout gemv_layout) {
  const int elems = gemv_chunk_elems(host.dtype);
  if (elems == 0) {
    fail_streamed("the CUDA decode GEMV has no kernel for ", dtype_name(host.dtype), " weights ([", host.rows, "][", host.cols, "]); supported: f16, bf16, i8_ch, f8_e4m3_ch, i4s_g32/g64/g128, q8_0, q4_0, nf4, q4_k. Convert the weight (eaq quantize) or run it on the CPU.");
  }
  if (host.rows <= 0 || host.cols <= 0 || host.data == nullptr) {
    fail_streamed("uploading a ", dtype_name(host.dtype), " weight of shape [", host.rows, "][", host.cols, "] (data ", host.data == nullptr ? "missing" : "present", "): the shape must be positive and the data present");
  }
  const auto& t = traits(host.dtype);
  if (host.cols % 8 != 0 || host.cols % static_cast<std::int64_t>(t.block_size) != 0) {
    fail_streamed("uploading a ", dtype_name(host.dtype), " weight [", host.rows, "][", host.cols, "] to the GPU: cols must be a multiple of 8 and of the ", t.block_size, "-weight block");
  }
  const std::size_t min_stride = row_bytes(host.dtype, static_cast<std::size_t>(host.cols));
  if (host.row_stride_bytes < min_stride) {
    fail_streamed("uploading a ", dtype_name(host.dtype), " weight [", host.rows, "][", host.cols, "]: row stride ", host.row_stride_bytes, " bytes is shorter than a row (", min_stride, " bytes)");
  }
  if (gemv_layout == GemvLayout::mma_tiles) {
    PackedGpuWeight tiles = pack_mma_tiles(host);
    tiles.dtype = host.dtype;
    tiles.rows = host.rows;
    tiles.cols = host.cols;
    return tiles;
  }
  const std::int64_t super = 32 * elems;
  const std::int64_t cols_padded = (host.cols + super - 1) / super * super;

  PackedGpuWeight layout;
  switch (host.dtype) {
    case DType::F16:
    case DType::BF16: layout = repack_plain(host, 2, false, cols_padded); break;
    case DType::I8_CH:
    case DType::F8_E4M3_CH: layout = repack_plain(host, 1, true, cols_padded); break;
    case DType::Q8_0:
      layout = repack_blocks(host, cols_padded, 8, kQK8_0, offsetof(block_q8_0, d), 2,
                             [](const std::uint8_t* row, std::int64_t e) {
                               return row[static_cast<std::size_t>(e / kQK8_0) * sizeof(block_q8_0) +
                                          offsetof(block_q8_0, qs) + static_cast<std::size_t>(e % kQK8_0)];
                             });
      break;
    case DType::Q4_0:
      layout = repack_blocks(host, cols_padded, 4, kQK4_0, offsetof(block_q4_0, d), 2,
                             [](const std::uint8_t* row, std::int64_t e) {
                               return nibble_q4_0_order(row, e, kQK4_0, sizeof(block_q4_0), offsetof(block_q4_0, qs));
                             });
      break;
    case DType::I4S_G32: layout = repack_i4s<32>(host, cols_padded); break;
    case DType::I4S_G64: layout = repack_i4s<64>(host, cols_padded); break;
    case DType::I4S_G128: layout = repack_i4s<128>(host, cols_padded); break;
    case DType::NF4:
      layout = repack_blocks(host, cols_padded, 4, kQKNf4, offsetof(block_nf4, absmax), 4,
                             [](const std::uint8_t* row, std::int64_t e) {
                               return nibble_q4_0_order(row, e, kQKNf4, sizeof(block_nf4), offsetof(block_nf4, qs));
                             });
      break;
    case DType::Q4_K: layout = repack_q4_k(host, cols_padded); break;
    default: fail_streamed("internal error: gemv_chunk_elems and upload_weight disagree on ", dtype_name(host.dtype));
  }
  layout.dtype = host.dtype;
  layout.rows = host.rows;
  layout.cols = host.cols;
  layout.cols_padded = cols_padded;
  return layout;
}

GpuWeight upload_weight(const WeightRef& host, cudaStream_t stream) {
  return upload_weight(host, stream, default_gemv_layout(host.dtype));
}

GpuWeight upload_weight(const WeightRef& host, cudaStream_t stream, GemvLayout gemv_layout) {
  const PackedGpuWeight layout = pack_for_gpu(host, gemv_layout);
  GpuWeight g;
  g.dtype = host.dtype;
  g.rows = host.rows;
  g.cols = host.cols;
  g.cols_padded = layout.cols_padded;
  g.code_row_bytes = layout.code_row_bytes;
  g.scale_row_bytes = layout.scale_row_bytes;
  g.layout = layout.layout;
  g.codes = device_alloc(layout.codes.size(), host, "codes");
  if (!layout.scales.empty()) {
    try {
      g.scales = device_alloc(layout.scales.size(), host, "scales");
    } catch (...) {
      cudaFree(g.codes);
      throw;
    }
  }
  g.device_bytes = layout.codes.size() + layout.scales.size();
  cudaError_t e = cudaMemcpyAsync(g.codes, layout.codes.data(), layout.codes.size(), cudaMemcpyHostToDevice, stream);
  if (e == cudaSuccess && g.scales != nullptr) {
    e = cudaMemcpyAsync(g.scales, layout.scales.data(), layout.scales.size(), cudaMemcpyHostToDevice, stream);
  }
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);  // the host vectors die on return
  if (e != cudaSuccess) {
    free_weight(g);
    check_cuda(e, "the host-to-device copy", host);
  }
  return g;
}

void free_weight(GpuWeight& w) {
  if (w.codes != nullptr) cudaFree(w.codes);
  if (w.scales != nullptr) cudaFree(w.scales);
  w = GpuWeight{};
}

}  // namespace eaq::kernels::cuda
