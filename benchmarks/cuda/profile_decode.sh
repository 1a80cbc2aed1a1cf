#!/usr/bin/env bash
# Per-kernel GPU time of the CUDA engine's decode step on the GPU machine, through the CUPTI tracer
# (benchmarks/cuda/kernel_trace.cpp; real clocks, the CUDA graph's kernels one by one). Run from the
# repository root after tools/device_build.sh packed .device:
#   benchmarks/cuda/profile_decode.sh SHAPE PRECISION [NEW_TOKENS]
# Prints tools/kernel_trace_summary.py's table and leaves the trace in $OUT/trace_SHAPE_PRECISION.csv.gz.
set -euo pipefail
shape=$1 precision=$2 n_new=${3:-64}
out=${OUT:-/tmp/eaq_out}
mkdir -p "$out"
source .device/env.sh
# A prefill graph's kernels would read as decode steps in the summary: prefills launch kernel by
# kernel here unless the caller sets the variable.
export EAQ_CUDA_PREFILL_GRAPH=${EAQ_CUDA_PREFILL_GRAPH:-0}
trace=/tmp/trace_${shape}_${precision}.csv
CUDA_INJECTION64_PATH=$PWD/.device/lib/libeaq_kernel_trace.so EAQ_KERNEL_TRACE=$trace \
  bench_engine_cuda --shape "$shape" --precision "$precision" --new "$n_new" --repeat 1 --energy-s 0 \
  >/tmp/trace_bench_$$.log
echo "## $shape $precision"
# The traced run's own figures (the tracer's cost shows against an untraced run of the same flags).
grep -E "decode/s|$precision " /tmp/trace_bench_$$.log | head -4 || true
python3 tools/kernel_trace_summary.py "$trace" --top 20
gzip -c "$trace" >"$out/trace_${shape}_${precision}.csv.gz"
