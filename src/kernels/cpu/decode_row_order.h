// The order in which the CPU decode matvecs (one activation row) read a thread's weight rows.
//
// A thread's rows [begin, end) are cut into kDecodeStreams equal segments, and a pass takes row t
// of every segment: the weight is read as kDecodeStreams sequential streams, each running through
// its whole segment, which the hardware prefetcher follows. Reading adjacent rows instead made
// streams one row long — with SmolLM2's short rows (576 bf16 = 1152 bytes, 324 bytes as q4_0) too
// short for the prefetcher to ramp up — and one row at a time makes a single stream, which one core
// cannot pull at full bandwidth. benchmarks/cpu/matvec_streams.cpp on the dev VM (1536x576 bf16
// from DRAM, 1 thread, triad 21.4 GB/s, 2026-12-05): adjacent rows 9.0 GB/s (11.3 with software
// prefetch), one row at a time 13.8-16.5, four segments 23.7; on 2048x8192 20.3 / 14.2 / 24.5.
// The order never changes a row's arithmetic.
//
// This header gives the arithmetic only; the loops stay in the kernels. A helper taking the row
// computation as a lambda is compiled outside Highway's per-target region, so it cannot inline the
// AVX2 lambda: measured 15% slower int4 / q4_1 decode in cache (bench_kernels_cpu 512x576).
#pragma once

#include <cstddef>

namespace eaq::kernels::cpu {

inline constexpr std::size_t kDecodeStreams = 4;

// Rows of one segment (the last segments may be shorter or empty).
inline std::size_t decode_segment_rows(std::size_t begin, std::size_t end) {
  return (end - begin + kDecodeStreams - 1) / kDecodeStreams;
}

// Row t of segment s; at or past `end` when that segment is shorter.
inline std::size_t decode_row(std::size_t begin, std::size_t segment_rows, std::size_t s, std::size_t t) {
  return begin + s * segment_rows + t;
}

}  // namespace eaq::kernels::cpu
