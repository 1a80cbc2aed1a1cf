#!/usr/bin/env bash
# Builds eaq for the GPU machine HERE and packs what it needs into a carry folder, because the GPU
# machine has no Debian -dev packages and its device time is scarce (a full eaq build there costs
# minutes of it; a carried binary costs none).
#
#   tools/device_build.sh [BUILD_DIR] [CARRY_DIR]      (defaults: build-device, .device)
#
# 1. configures BUILD_DIR (Release, CUDA for sm_90a, or CUDA_ARCH) and builds eaq,
#    bench_engine_cuda, bench_gemv, bench_half_matvec, bench_attention_decode, bench_attention_prefill,
#    bench_prefill_gemm, bench_tile_stream, bench_dequantize, bench_mixed_gemm,
#    bench_decoder_ops, the kernels'
#    GPU unit tests (eaq_kernels_cuda_tests) and, where the toolkit has CUPTI, the kernel tracer
#    (benchmarks/cuda/kernel_trace.cpp, carried with its libcupti);
# 2. copies them to CARRY_DIR/bin, the shared libraries the GPU image lacks (fmt, spdlog,
#    yaml-cpp, pcre2, utf8proc, hwy, seccomp, sqlite3 — read off `ldd`, system C/C++ runtime and
#    CUDA libraries excluded) to CARRY_DIR/lib, and ../shared/models/stories260K to
#    CARRY_DIR/shared/models;
# 3. writes CARRY_DIR/env.sh, which on the GPU machine puts the carried libraries and the image's
#    own cuBLAS (CUDA 13: /usr/local/cuda or the nvidia-cublas wheel) on LD_LIBRARY_PATH and sets
#    EAQ_BIN / EAQ_SHARED / EAQ_ROOT for the e2e tests.
#
# 4. packs CARRY_DIR into CARRY_DIR.tar.gz, which is what travels (the folder alone can pass the
#    64 MiB carry limit).
# Then, in the device call, name CARRY_DIR.tar.gz in `carry` (both are in .gitignore); the command
# unpacks it and starts with `source CARRY_DIR/env.sh` (benchmarks/cuda/device_run_cuda.sh does
# both).
# The binaries need glibc >= this machine's (Debian 12: 2.36; the GPU image's Ubuntu 24.04 has 2.39).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-device}
carry=${2:-.device}
cd "$root"
arch=${CUDA_ARCH:-90a}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEAQ_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target eaq bench_engine_cuda bench_gemv bench_half_matvec bench_attention_decode bench_attention_prefill bench_prefill_gemm bench_tile_stream bench_dequantize bench_mixed_gemm bench_decoder_ops eaq_kernels_cuda_tests
if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^eaq_kernel_trace:'; then
  cmake --build "$build" -j"${JOBS:-2}" --target eaq_kernel_trace
fi

rm -rf "$carry"
mkdir -p "$carry/bin" "$carry/lib" "$carry/shared/models"
cp "$build/eaq" "$carry/bin/"
for b in benchmarks/bench_engine_cuda benchmarks/bench_gemv benchmarks/bench_half_matvec benchmarks/bench_attention_decode benchmarks/bench_attention_prefill benchmarks/bench_prefill_gemm benchmarks/bench_tile_stream benchmarks/bench_dequantize benchmarks/bench_mixed_gemm benchmarks/bench_decoder_ops tests/eaq_kernels_cuda_tests; do
  if [[ -x $build/$b ]]; then cp "$build/$b" "$carry/bin/"; fi
done
# Symbols only: the carry limit is 64 MiB (the binaries' symbol tables alone are several MiB).
strip "$carry"/bin/*
for bin in "$carry"/bin/*; do
  ldd "$bin" | awk '/=> \// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libstdc++*|libgcc_s*|libpthread*|libdl.so*|librt.so*|libcublas*|libcuda*|libnvidia*) ;;
      *) cp -L "$lib" "$carry/lib/" ;;
    esac
  done
done
# The CUPTI kernel tracer (benchmarks/cuda/kernel_trace.cpp) and the CUPTI it was built with.
if [[ -e $build/benchmarks/libeaq_kernel_trace.so ]]; then
  cp "$build/benchmarks/libeaq_kernel_trace.so" "$carry/lib/"
  cupti=$(ldd "$build/benchmarks/libeaq_kernel_trace.so" | awk '/libcupti/ {print $3}')
  if [[ -n $cupti ]]; then cp -L "$cupti" "$carry/lib/"; fi
fi
cp -r ../shared/models/stories260K "$carry/shared/models/"
mkdir -p "$carry/shared/tokenizers/llama2"
cp ../shared/tokenizers/llama2/tokenizer.json "$carry/shared/tokenizers/llama2/"
cat > "$carry/env.sh" <<'ENV'
# Sourced on the GPU machine from the repository root (see tools/device_build.sh).
carry_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cublas_dir=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         $(python3 -c "import nvidia, os; print(' '.join(os.path.join(p, s, 'lib') for p in nvidia.__path__ for s in ('cu13', 'cublas')))" 2>/dev/null); do
  if [[ -e $d/libcublas.so.13 ]]; then cublas_dir=$d; break; fi
done
[[ -n $cublas_dir ]] || echo "env.sh: libcublas.so.13 not found on this machine" >&2
export LD_LIBRARY_PATH=$carry_dir/lib${cublas_dir:+:$cublas_dir}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export EAQ_BIN=$carry_dir/bin/eaq EAQ_SHARED=$carry_dir/shared EAQ_ROOT=$PWD EAQ_BUILD=$carry_dir
export PATH=$carry_dir/bin:$PATH
ENV
du -sh "$carry"
# What travels: the folder as one gzip'd tar (the binaries' host code compresses ~3x; the folder
# itself passed the 64 MiB carry limit once the kernels' experiments were built in, 2026-12-05).
# device_run_cuda.sh unpacks it when the folder is not there.
tar czf "$carry.tar.gz" "$carry"
ls -la "$carry.tar.gz" | awk '{printf "%s: %.1f MiB (carry limit 64 MiB)\n", $9, $5 / 1048576}'
