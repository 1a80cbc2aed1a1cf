// The GPU weight formats of the decode GEMV: how a lane's 16-byte code chunk maps to positions of
// the row, where the scales are, and how four weights ("piece" p of the chunk) decode to floats.
// The layouts are written by gpu_weight.cu (pack_for_gpu); this file and that one must agree.
//
// One position map for every format (S = 32 * kElems weights per super-chunk, one 16-byte chunk per
// lane, kElems = 8 / 16 / 32 for 16- / 8- / 4-bit codes): piece p of lane l holds positions
// s*S + p*128 + 4l .. +3, so each float4 activation load of the warp reads 512 contiguous bytes.
// Byte order inside a chunk: 16-bit codes: piece p = words 2p, 2p+1; 8-bit: piece p = word p; 4-bit:
// piece p < 4 = the low nibbles of word p, piece p >= 4 = the high nibbles of word p - 4. Group
// scales stay in row order ([rows][cols_padded / G]); a piece's four weights share one group (G is a
// multiple of 32), found from the piece's position.
//
// Nibbles and bytes become floats without conversion instructions: a byte placed under the exponent
// of 2^23 (0x4B000000 | byte) is the float 2^23 + byte, and one subtraction gives the integer.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "core/eaq_quant_blocks.h"

namespace eaq::kernels::cuda::detail {

// What one launch reads: codes [rows][code_row_bytes], scales [rows][scale_row_bytes] (or [rows]
// f32 for per-row formats), activations x [batch][cols] and output y [batch][rows].
struct GemvArgs {
  const std::uint8_t* codes;
  std::size_t code_row_bytes;
  const std::uint8_t* scales;
  std::size_t scale_row_bytes;
  std::int64_t rows;
  std::int64_t cols;
  std::int64_t n_super;  // super-chunks per row (cols_padded / (32 * kElems))
  const float* x;
  float* y;
  const float* bias;  // [rows] or nullptr (GemvEpilogue)
  int accumulate;     // y += instead of y =
  // Gated (GemvEpilogue::gate): rows [0, gate_rows) are the gate, [gate_rows, rows) the up
  // projection; y[b][j] = act(gate_j . x[b]) * (up_j . x[b]), gate_rows values a batch row. 0: not gated.
  std::int64_t gate_rows;
  int gelu_tanh;
  float lut[16];  // nf4's codebook (filled by the host from core/eaq_quant_blocks.h), else unused
};

struct NoMeta {};

// Every function here is also compiled for the host (EAQ_HD), where gemv_emulation.cu runs the
// kernel's per-lane code on the CPU to check layouts and decoding where there is no GPU.
#define EAQ_HD __host__ __device__ __forceinline__
#define EAQ_PRAGMA(x) _Pragma(#x)
#ifdef __CUDA_ARCH__
#define EAQ_UNROLL _Pragma("unroll")
#define EAQ_UNROLL_BY(n) EAQ_PRAGMA(unroll n)
#else  // the host compiler does not know the pragma; the emulation needs no unrolling
#define EAQ_UNROLL
#define EAQ_UNROLL_BY(n)
#endif

EAQ_HD uint4 load_stream16(const void* p) {
#ifdef __CUDA_ARCH__
  // Weights are read once per call: keep them out of L1 so the activations stay there.
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
#else
  uint4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}

// A hint to bring the 32-byte sector at p into L1 (and L2) ahead of its loads; nothing on the host.
EAQ_HD void prefetch_l1(const void* p) {
#ifdef __CUDA_ARCH__
  asm volatile("prefetch.global.L1 [%0];" ::"l"(p));
#else
  (void)p;
#endif
}

// A read-only load (through the non-coherent cache on the device).
template <class T>
EAQ_HD T load_ro(const T* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);
#else
  return *p;
#endif
}

EAQ_HD float bits_as_float(std::uint32_t bits) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
#endif
}

EAQ_HD std::uint32_t word_of(const uint4& q, int i) {
  return i == 0 ? q.x : i == 1 ? q.y : i == 2 ? q.z : q.w;
}

// Byte k of w as the float 2^23 + byte.
EAQ_HD float magic_byte(std::uint32_t w, int k) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7540u + static_cast<unsigned>(k)));
#else
  return bits_as_float(0x4B000000u | ((w >> (8 * k)) & 0xFFu));
#endif
}
EAQ_HD float4 bytes_minus(std::uint32_t w, float bias) {
  return make_float4(magic_byte(w, 0) - bias, magic_byte(w, 1) - bias, magic_byte(w, 2) - bias,
                     magic_byte(w, 3) - bias);
}
// The four nibbles of piece p (0..7) of a 4-bit chunk, one per byte.
EAQ_HD std::uint32_t nibbles_of_piece(const uint4& q, int p) {
  return (word_of(q, p & 3) >> (p >= 4 ? 4 : 0)) & 0x0F0F0F0Fu;
}

EAQ_HD __half2 half2_of(std::uint32_t w) {
  __half2_raw r;
  r.x = static_cast<unsigned short>(w & 0xFFFFu);
  r.y = static_cast<unsigned short>(w >> 16);
  return __half2(r);
}

inline constexpr float kMagic = 8388608.0f;  // 2^23

// --- per-row formats (no group scale) ------------------------------------------------------------

struct FmtF16 {
  static constexpr int kElems = 8;
  static constexpr bool kGroupScale = false;
  static constexpr bool kUsesLut = false;
  using Meta = NoMeta;
  EAQ_HD static uint4 load_codes(const GemvArgs& a, std::int64_t row, std::int64_t chunk) {
    return load_stream16(a.codes + row * a.code_row_bytes + chunk * 16);
  }
  EAQ_HD static Meta load_meta(const GemvArgs&, std::int64_t, std::int64_t /*pos*/) { return {}; }
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    const std::uint32_t w0 = word_of(q, 2 * p), w1 = word_of(q, 2 * p + 1);
    const float2 lo = __half22float2(half2_of(w0));
    const float2 hi = __half22float2(half2_of(w1));
    return make_float4(lo.x, lo.y, hi.x, hi.y);
  }
  EAQ_HD static float group_scale(const Meta&) { return 1.0f; }
  EAQ_HD static float row_scale(const GemvArgs&, std::int64_t) { return 1.0f; }
};

struct FmtBF16 : FmtF16 {
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    const std::uint32_t w0 = word_of(q, 2 * p), w1 = word_of(q, 2 * p + 1);
    return make_float4(bits_as_float(w0 << 16), bits_as_float(w0 & 0xFFFF0000u),
                       bits_as_float(w1 << 16), bits_as_float(w1 & 0xFFFF0000u));
  }
};

// int8 per output channel: value = code * scale[row] (scales: f32 [rows]).
struct FmtI8Row : FmtF16 {
  static constexpr int kElems = 16;
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    return bytes_minus(word_of(q, p) ^ 0x80808080u, kMagic + 128.0f);
  }
  EAQ_HD static float row_scale(const GemvArgs& a, std::int64_t row) {
    return load_ro(reinterpret_cast<const float*>(a.scales) + row);
  }
};

// fp8 e4m3 per output channel: value = e4m3(code) * scale[row]. e4m3 -> f16 is exact.
struct FmtF8Row : FmtI8Row {
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    const std::uint32_t w = word_of(q, p);
    const __half2_raw lo_raw = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w & 0xFFFFu), __NV_E4M3);
    const __half2_raw hi_raw = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w >> 16), __NV_E4M3);
    const float2 lo = __half22float2(__half2(lo_raw));
    const float2 hi = __half22float2(__half2(hi_raw));
    return make_float4(lo.x, lo.y, hi.x, hi.y);
  }
};

// --- group-scaled formats (one scale per piece, looked up by the piece's position) ----------------

// q8_0: value = code * d, d f16 per 32 weights (scales: f16 [rows][cols_padded / 32]).
struct FmtQ8_0 {
  static constexpr int kElems = 16;
  static constexpr bool kGroupScale = true;
  static constexpr bool kUsesLut = false;
  using Meta = float;
  EAQ_HD static uint4 load_codes(const GemvArgs& a, std::int64_t row, std::int64_t chunk) {
    return load_stream16(a.codes + row * a.code_row_bytes + chunk * 16);
  }
  EAQ_HD static Meta load_meta(const GemvArgs& a, std::int64_t row, std::int64_t pos) {
    const auto* s = reinterpret_cast<const __half*>(a.scales + row * a.scale_row_bytes);
    return __half2float(load_ro(s + pos / 32));
  }
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    return bytes_minus(word_of(q, p) ^ 0x80808080u, kMagic + 128.0f);
  }
  EAQ_HD static float group_scale(const Meta& m) { return m; }
  EAQ_HD static float row_scale(const GemvArgs&, std::int64_t) { return 1.0f; }
};

// int4 symmetric, groups of G (also q4_0 = G 32): value = (q - 8) * d, d f16 per group
// (scales: f16 [rows][cols_padded / G]).
template <int G>
struct FmtI4S : FmtQ8_0 {
  static constexpr int kElems = 32;
  EAQ_HD static Meta load_meta(const GemvArgs& a, std::int64_t row, std::int64_t pos) {
    const auto* s = reinterpret_cast<const __half*>(a.scales + row * a.scale_row_bytes);
    return __half2float(load_ro(s + pos / G));
  }
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float*) {
    return bytes_minus(nibbles_of_piece(q, p), kMagic + 8.0f);
  }
};

// nf4: value = codebook[q] * absmax, absmax f32 per 64 weights (scales: f32 [rows][cols_padded / 64]).
struct FmtNf4 : FmtQ8_0 {
  static constexpr int kElems = 32;
  static constexpr bool kUsesLut = true;
  EAQ_HD static Meta load_meta(const GemvArgs& a, std::int64_t row, std::int64_t pos) {
    const auto* s = reinterpret_cast<const float*>(a.scales + row * a.scale_row_bytes);
    return load_ro(s + pos / kQKNf4);
  }
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta&, const float* lut) {
    const std::uint32_t n = nibbles_of_piece(q, p);
    return make_float4(lut[n & 0xF], lut[(n >> 8) & 0xF], lut[(n >> 16) & 0xF], lut[n >> 24]);
  }
};

// q4_K repacked: codes as every 4-bit format above; scales row = [cols_padded / 256]
// (d, dmin) f16 pairs, then [cols_padded / 32] uint16 (6-bit scale | 6-bit min << 8) per sub-block.
// value = (d * scale) * q - dmin * min.
struct FmtQ4K : FmtQ8_0 {
  static constexpr int kElems = 32;
  static constexpr bool kGroupScale = false;
  struct Meta {
    float scale;
    float min;
  };
  EAQ_HD static Meta load_meta(const GemvArgs& a, std::int64_t row, std::int64_t pos) {
    const std::uint8_t* base = a.scales + row * a.scale_row_bytes;
    const __half2 dm = load_ro(reinterpret_cast<const __half2*>(base) + pos / 256);
    const std::uint16_t sm = load_ro(reinterpret_cast<const unsigned short*>(base + a.n_super * 16) + pos / 32);
    const float2 d = __half22float2(dm);
    return {d.x * static_cast<float>(sm & 0xFF), d.y * static_cast<float>(sm >> 8)};
  }
  EAQ_HD static float4 decode(const uint4& q, int p, const Meta& m, const float*) {
    const std::uint32_t n = nibbles_of_piece(q, p);
    return make_float4(fmaf(magic_byte(n, 0) - kMagic, m.scale, -m.min),
                       fmaf(magic_byte(n, 1) - kMagic, m.scale, -m.min),
                       fmaf(magic_byte(n, 2) - kMagic, m.scale, -m.min),
                       fmaf(magic_byte(n, 3) - kMagic, m.scale, -m.min));
  }
  EAQ_HD static float group_scale(const Meta&) { return 1.0f; }
};

// Calls fn(Fmt{}) with the GPU format of `dtype`; false when the GEMV does not take the dtype.
template <class Fn>
bool visit_gemv_format(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::F16: fn(FmtF16{}); return true;
    case DType::BF16: fn(FmtBF16{}); return true;
    case DType::I8_CH: fn(FmtI8Row{}); return true;
    case DType::F8_E4M3_CH: fn(FmtF8Row{}); return true;
    case DType::Q8_0: fn(FmtQ8_0{}); return true;
    case DType::Q4_0:  // q4_0 blocks are i4s_g32 blocks: (q - 8) * d, same nibble order
    case DType::I4S_G32: fn(FmtI4S<32>{}); return true;
    case DType::I4S_G64: fn(FmtI4S<64>{}); return true;
    case DType::I4S_G128: fn(FmtI4S<128>{}); return true;
    case DType::NF4: fn(FmtNf4{}); return true;
    case DType::Q4_K: fn(FmtQ4K{}); return true;
    default: return false;
  }
}

// The launch arguments of a weight in the GPU layout (device or, for the emulation, host pointers).
inline GemvArgs make_gemv_args(const void* codes, std::size_t code_row_bytes, const void* scales,
                               std::size_t scale_row_bytes, std::int64_t rows, std::int64_t cols,
                               std::int64_t cols_padded, int chunk_elems, const float* x, float* y) {
  GemvArgs a{};
  a.codes = static_cast<const std::uint8_t*>(codes);
  a.code_row_bytes = code_row_bytes;
  a.scales = static_cast<const std::uint8_t*>(scales);
  a.scale_row_bytes = scale_row_bytes;
  a.rows = rows;
  a.cols = cols;
  a.n_super = cols_padded / (32 * chunk_elems);
  a.x = x;
  a.y = y;
  a.bias = nullptr;
  a.accumulate = 0;
  a.gate_rows = 0;
  a.gelu_tanh = 0;
  for (int i = 0; i < 16; ++i) a.lut[i] = kNf4Codebook[i];
  return a;
}

// The weight row of a block's row slot: the slot itself, or gated, slot 2j the gate row j and slot
// 2j + 1 the up row gate_rows + j (a block's even number of slots holds whole pairs).
EAQ_HD std::int64_t gemv_slot_row(const GemvArgs& a, std::int64_t slot) {
  return a.gate_rows > 0 ? (slot >> 1) + (slot & 1) * a.gate_rows : slot;
}

// Writes output (b, row) = the row's dot product, through the epilogue (bias, accumulate).
EAQ_HD void store_output(const GemvArgs& a, int b, std::int64_t row, float dot) {
  float v = dot;
  if (a.bias != nullptr) v += a.bias[row];
  float* out = a.y + b * a.rows + row;
  if (a.accumulate) v += *out;
  *out = v;
}

}  // namespace eaq::kernels::cuda::detail
