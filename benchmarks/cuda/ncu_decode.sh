#!/usr/bin/env bash
# Nsight Compute profile of chosen kernels of the CUDA engine's decode, on the GPU machine (run
# from the repository root after tools/device_build.sh packed .device):
#   benchmarks/cuda/ncu_decode.sh SHAPE PRECISION KERNEL_REGEX COUNT [SKIP]
# Profiles COUNT launches whose kernel name matches KERNEL_REGEX, after skipping SKIP of them
# (default 200: past the prefill, inside the decode steps), of bench_engine_cuda's greedy decode of
# SHAPE at PRECISION, with ncu's full section set and the clocks left alone (--clock-control none,
# as the device notes advise). ncu runs each profiled kernel alone and replays it, so its times are
# of the kernel in isolation, not under PDL overlap. Leaves in $NCU_DIR (default $OUT):
#   ncu_SHAPE_PRECISION_TAG.txt     the details page (throughput, memory, warp stalls, occupancy);
#   ncu_SHAPE_PRECISION_TAG_sass.csv.gz  the source page: per-SASS-instruction stall samples.
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: ncu_decode.sh SHAPE PRECISION KERNEL_REGEX COUNT [SKIP]" >&2
  exit 2
fi
shape=$1 precision=$2 regex=$3 count=$4 skip=${5:-200}
out=${NCU_DIR:-${OUT:-/tmp/eaq_out}}
mkdir -p "$out"
source .device/env.sh
ncu_bin=$(command -v ncu || true)
if [[ -z $ncu_bin ]]; then
  for c in /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    if [[ -x $c ]]; then ncu_bin=$c; fi
  done
fi
if [[ -z $ncu_bin ]]; then
  echo "ncu_decode.sh: ncu (Nsight Compute) is not on this machine's PATH nor in /usr/local/cuda/bin" >&2
  exit 1
fi
tag=$(echo "$regex" | tr -c 'A-Za-z0-9_\n' '_')
rep=/tmp/ncu_${shape}_${precision}_${tag}
"$ncu_bin" --clock-control none --set full --import-source no -k "regex:$regex" --launch-skip "$skip" \
  --launch-count "$count" -f -o "$rep" \
  bench_engine_cuda --shape "$shape" --precision "$precision" --new 8 --repeat 1 --energy-s 0 >/dev/null
"$ncu_bin" -i "$rep.ncu-rep" --page details >"$out/ncu_${shape}_${precision}_${tag}.txt"
"$ncu_bin" -i "$rep.ncu-rep" --page source --csv --print-source sass 2>&1 | gzip -c \
  >"$out/ncu_${shape}_${precision}_${tag}_sass.csv.gz"
echo "## ncu $shape $precision $regex: $(grep -c '^  [a-z_]' "$out/ncu_${shape}_${precision}_${tag}.txt" || true) kernels"
grep -E '^  [a-zA-Z_].*\(|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per' \
  "$out/ncu_${shape}_${precision}_${tag}.txt" || true
