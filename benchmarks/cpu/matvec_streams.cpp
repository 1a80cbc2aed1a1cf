// Which order of reading a weight matrix lets one core's decode matvec (bf16 weights, f32
// activations, AVX2) run at memory bandwidth: the experiment behind DecodeDirect in
// src/kernels/cpu/matmul_cpu.cpp and the decode loop of matmul_packed_cpu.cpp. Plain intrinsics,
// no eaq code, so that only the access order differs between the variants:
//   adjacent   four adjacent rows a pass (one accumulator each): four streams one row long
//   one row    one row at a time (four accumulators): one sequential stream
//   quarters   one row from each quarter of the matrix a pass: four streams a quarter long
// each without and with a software prefetch PF bytes ahead. Matrices are cycled through a 256 MiB
// working set (far beyond the LLC); a STREAM triad from the same run is printed as the bound.
//   matvec_streams [ROWS COLS]   (default 1536 576, SmolLM2-135M's FFN; COLS a multiple of 32)
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

int g_rows = 1536, g_cols = 576, g_prefetch_bytes = 0;

__m256 load_bf16(const std::uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
float hsum(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_add_ss(a, _mm_movehdup_ps(a)));
}
void prefetch(const std::uint16_t* p) {
  if (g_prefetch_bytes > 0) _mm_prefetch(reinterpret_cast<const char*>(p) + g_prefetch_bytes, _MM_HINT_T0);
}

// Four rows w[0..3] against x, one accumulator each (the prefill tile's arithmetic).
void four_rows(const std::uint16_t* const w[4], const float* x, float out[4]) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int i = 0; i < g_cols; i += 8) {
    if (i % 32 == 0) {
      for (int c = 0; c < 4; ++c) prefetch(w[c] + i);
    }
    const __m256 xv = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(xv, load_bf16(w[0] + i), a0);
    a1 = _mm256_fmadd_ps(xv, load_bf16(w[1] + i), a1);
    a2 = _mm256_fmadd_ps(xv, load_bf16(w[2] + i), a2);
    a3 = _mm256_fmadd_ps(xv, load_bf16(w[3] + i), a3);
  }
  out[0] = hsum(a0), out[1] = hsum(a1), out[2] = hsum(a2), out[3] = hsum(a3);
}

void adjacent(const std::uint16_t* W, const float* x, float* y) {
  for (int r = 0; r < g_rows; r += 4) {
    const std::uint16_t* w[4];
    for (int c = 0; c < 4; ++c) w[c] = W + static_cast<std::size_t>(r + c) * g_cols;
    four_rows(w, x, y + r);
  }
}

void quarters(const std::uint16_t* W, const float* x, float* y) {
  const int q = g_rows / 4;
  for (int r = 0; r < q; ++r) {
    const std::uint16_t* w[4];
    float out[4];
    for (int c = 0; c < 4; ++c) w[c] = W + static_cast<std::size_t>(r + c * q) * g_cols;
    four_rows(w, x, out);
    for (int c = 0; c < 4; ++c) y[r + c * q] = out[c];
  }
}

void one_row(const std::uint16_t* W, const float* x, float* y) {
  for (int r = 0; r < g_rows; ++r) {
    const std::uint16_t* w = W + static_cast<std::size_t>(r) * g_cols;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < g_cols; i += 32) {
      prefetch(w + i);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load_bf16(w + i), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), load_bf16(w + i + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), load_bf16(w + i + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), load_bf16(w + i + 24), a3);
    }
    y[r] = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double triad_gb_per_s() {
  const std::size_t n = std::size_t{64} << 20;  // 3 x 256 MiB
  std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 0.0f);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) c[i] = a[i] + 3.0f * b[i];
    best = std::max(best, 3.0 * n * sizeof(float) / seconds_since(t) / 1e9);
  }
  if (c[n / 2] != 7.0f) std::abort();
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3) g_rows = std::atoi(argv[1]), g_cols = std::atoi(argv[2]);
  if (g_rows <= 0 || g_rows % 4 != 0 || g_cols <= 0 || g_cols % 32 != 0) {
    std::fprintf(stderr, "matvec_streams: ROWS must be a positive multiple of 4 and COLS of 32 (got %d x %d)\n", g_rows,
                 g_cols);
    return 2;
  }
  const std::size_t matrix = static_cast<std::size_t>(g_rows) * g_cols;
  const std::size_t n_matrices = std::max<std::size_t>(1, (std::size_t{256} << 20) / (matrix * 2));
  std::vector<std::uint16_t> W(n_matrices * matrix);
  for (std::size_t i = 0; i < W.size(); ++i) W[i] = static_cast<std::uint16_t>(0x3f80 + i % 7);
  std::vector<float> x(g_cols, 1.0f), y(g_rows);
  std::printf("bf16 matvec %d x %d, 1 thread, %zu matrices (%.0f MiB); STREAM triad %.2f GB/s\n", g_rows, g_cols,
              n_matrices, W.size() * 2.0 / (1 << 20), triad_gb_per_s());
  struct Variant {
    const char* name;
    void (*run)(const std::uint16_t*, const float*, float*);
  };
  for (const Variant& v : {Variant{"adjacent", adjacent}, Variant{"one row", one_row}, Variant{"quarters", quarters}}) {
    for (int pf : {0, 1024, 4608}) {
      g_prefetch_bytes = pf;
      for (std::size_t m = 0; m < n_matrices; ++m) v.run(W.data() + m * matrix, x.data(), y.data());
      const auto t = std::chrono::steady_clock::now();
      constexpr int kReps = 4;
      for (int rep = 0; rep < kReps; ++rep) {
        for (std::size_t m = 0; m < n_matrices; ++m) v.run(W.data() + m * matrix, x.data(), y.data());
      }
      std::printf("%-9s prefetch %4d B ahead: %6.2f GB/s\n", v.name, pf, kReps * W.size() * 2.0 / seconds_since(t) / 1e9);
    }
  }
  return 0;
}
