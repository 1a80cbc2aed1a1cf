#!/usr/bin/env bash
# The SASS of a CUDA source's kernels, summarised, on a machine without a GPU (how docs/cuda.md's
# "What the SASS says" was read). The toolkit here has nvcc and ptxas but no cuobjdump/nvdisasm:
# they come from PyPI wheels (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm), downloaded once into
# ${EAQ_SASS_TOOLS:-~/.cache/eaq-sass}.
#
#   tools/sass_summary.sh SOURCE.cu [KERNEL_PATTERN] [--dump]
#
# Compiles SOURCE.cu for sm_90a as the build does (-O3, -Isrc, C++17) with ptxas -v, then for each
# kernel whose mangled name matches KERNEL_PATTERN (grep -E; default: all) prints its registers
# and counts of the instructions that decide a memory-bound kernel: global loads (LDG) and stores
# (STG), tensor-core MMAs (HMMA), barriers (BAR, cluster UCGABAR), fences (MEMBAR), and register
# moves (MOV). --dump also prints the kernel's SASS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: tools/sass_summary.sh SOURCE.cu [KERNEL_PATTERN] [--dump]}
pattern=${2:-.}
dump=${3:-}
tools=${EAQ_SASS_TOOLS:-$HOME/.cache/eaq-sass}
version=13.2.51
if [[ ! -x $tools/nvidia/cu13/bin/cuobjdump || ! -x $tools/nvidia/cu13/bin/nvdisasm ]]; then
  mkdir -p "$tools"
  python3 -m pip download --quiet --no-deps -d "$tools" "nvidia-cuda-cuobjdump==$version" "nvidia-cuda-nvdisasm==$version"
  (cd "$tools" && for w in nvidia_cuda_cuobjdump-*.whl nvidia_cuda_nvdisasm-*.whl; do python3 -m zipfile -e "$w" .; done)
  chmod +x "$tools"/nvidia/cu13/bin/*
fi
export PATH=$tools/nvidia/cu13/bin:$PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nvcc -std=c++17 -O3 -arch=sm_90a -I"$root/src" -Xptxas -v -c "$src" -o "$work/k.o" 2>"$work/ptxas.txt"
cuobjdump -sass "$work/k.o" >"$work/all.sass"
# ptxas prints "Compiling entry function 'NAME'" then "Used N registers" for each kernel.
awk '/Compiling entry function/ {match($0, /'"'"'[^'"'"']*'"'"'/); name = substr($0, RSTART + 1, RLENGTH - 2)}
     /Used [0-9]+ registers/ {match($0, /Used [0-9]+ registers/); print name, substr($0, RSTART + 5, RLENGTH - 15)}' \
  "$work/ptxas.txt" | sort -u >"$work/registers.txt"
awk -v pattern="$pattern" -v dump="$dump" -v regs="$work/registers.txt" '
  BEGIN { while ((getline line < regs) > 0) { split(line, f, " "); reg[f[1]] = f[2] } }
  function report() {
    if (fn == "") return
    printf "%s\n  registers %s | LDG %d STG %d HMMA %d BAR %d UCGABAR %d MEMBAR %d MOV %d\n", fn, (fn in reg ? reg[fn] : "?"),
           n["LDG"], n["STG"], n["HMMA"], n["BAR"], n["UCGABAR"], n["MEMBAR"], n["MOV"]
    delete n
  }
  /Function :/ { report(); fn = ($3 ~ pattern) ? $3 : ""; next }
  fn != "" && /\/\*[0-9a-f]+\*\// {
    if (dump == "--dump") print
    if ($0 ~ /LDG/) n["LDG"]++
    if ($0 ~ /STG/) n["STG"]++
    if ($0 ~ /HMMA/) n["HMMA"]++
    if ($0 ~ /[^A-Z]BAR\./) n["BAR"]++
    if ($0 ~ /UCGABAR/) n["UCGABAR"]++
    if ($0 ~ /MEMBAR/) n["MEMBAR"]++
    if ($0 ~ / MOV |IMAD\.MOV/) n["MOV"]++
  }
  END { report() }' "$work/all.sass"
