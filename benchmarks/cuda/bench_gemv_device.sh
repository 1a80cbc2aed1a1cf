#!/usr/bin/env bash
# Builds and runs the GEMV workbench (bench_gemv.cu) with plain nvcc, without CMake or the
# project's other dependencies: the kernels, eaq's core dtype table and scalar decoders, and fmt
# (FMT_PREFIX: a folder with include/fmt/ and lib/libfmt.so, default the system's).
#   benchmarks/cuda/bench_gemv_device.sh BUILD_DIR [bench_gemv args...]
# ARCH (default 90a) picks the target, e.g. ARCH=80.
set -euo pipefail
build=${1:?usage: bench_gemv_device.sh BUILD_DIR [args...]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
arch=${ARCH:-90a}
fmt_prefix=${FMT_PREFIX:-/usr}
fmt_include=$fmt_prefix/include
fmt_lib=$fmt_prefix/lib
[[ -d $fmt_lib && -e $fmt_lib/libfmt.so ]] || fmt_lib=/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$fmt_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$build"
flags=(-std=c++20 -O3 "-gencode=arch=compute_${arch},code=sm_${arch}" -I"$root/src" -I"$fmt_include"
       -Xcompiler -Wall)
sources=("$root"/src/kernels/cuda/gemv*.cu "$root"/src/kernels/cuda/gpu_weight.cu "$root"/src/kernels/cuda/gpu_weight_error.cpp "$root"/benchmarks/cuda/bench_gemv.cu
         "$root"/src/core/dtype.cpp "$root"/src/core/dequantize_*.cpp)
pids=()
objs=()
for s in "${sources[@]}"; do
  o="$build/$(basename "$s").o"
  objs+=("$o")
  if [[ $s == *.cu ]]; then
    nvcc "${flags[@]}" -c "$s" -o "$o" &
  else
    "${CXX:-g++}" -std=c++20 -O2 -Wall -I"$root/src" -I"$fmt_include" -c "$s" -o "$o" &
  fi
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
nvcc "${flags[@]}" "${objs[@]}" -L"$fmt_lib" -lfmt -o "$build/bench_gemv"
if [[ ${NO_RUN:-0} != 1 ]]; then "$build/bench_gemv" "$@"; fi
