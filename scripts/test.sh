#!/usr/bin/env bash
# Runs eaq's test suite the way CI does: set up (idempotent), build, run every test that needs no
# GPU, then rebuild with AddressSanitizer + UBSan and run the unit and e2e tests again.
#   scripts/test.sh            # everything
#   scripts/test.sh --quick    # Release build only, no sanitizer pass
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    *) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
JOBS="$(nproc)"

"$ROOT/scripts/setup.sh" --no-build

echo "== Release build (CUDA backend compiled when nvcc is present)"
# Every .cu file is compiled, for sm_80 (the pre-Hopper fallbacks) and sm_90a (the Hopper paths and
# CUTLASS's kernels); CMake's default adds sm_89, which has no code of its own and cost CI about
# 3 CPU-minutes of nvcc.
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="80;90a" >/dev/null
cmake --build "$ROOT/build" -j "$JOBS"
echo "== tests (Release): unit, reference, e2e; label cuda excluded (no GPU here)"
ctest --test-dir "$ROOT/build" -LE cuda --output-on-failure -j "$JOBS" --timeout 900

if [ "$QUICK" -eq 0 ]; then
  echo "== AddressSanitizer + UBSan build"
  # -O1 -g1 (line tables: sanitizer reports keep file:line) instead of RelWithDebInfo's -O2 -g:
  # this build was most of CI's 34 minutes on 2 cores, and it compiles in about half the time.
  # The CPU kernels for AVX2 and the portable fallback only (EAQ_CPU_AVX512=OFF): the Release pass
  # tests the AVX-512 ones, and the packed matmul alone took 94 s of this build's compile with them
  # (50 s without).
  cmake -S "$ROOT" -B "$ROOT/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DEAQ_SANITIZE=ON -DEAQ_CUDA=OFF -DEAQ_BENCHMARKS=OFF -DEAQ_CPU_AVX512=OFF >/dev/null
  cmake --build "$ROOT/build-asan" -j "$JOBS"
  # The lm-eval agreement test scores 600+ items: it ran 460 s under ASan for nothing the Release
  # pass does not already check, so the sanitizer pass leaves it out.
  echo "== tests (ASan+UBSan): unit and e2e (without the long lm-eval agreement run)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$ROOT/build-asan" -L "unit|e2e" -LE cuda -E "eval_vs_lm_eval" \
    --output-on-failure -j "$JOBS" --timeout 1800
fi
