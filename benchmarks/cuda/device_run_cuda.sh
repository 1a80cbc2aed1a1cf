#!/usr/bin/env bash
# The CUDA engine's checks and benchmarks in one GPU-machine call, logs under $OUT (at most 8
# files come back). Run from the repository root after tools/device_build.sh packed .device and
# .device.tar.gz (carry [".device.tar.gz"]: the folder alone passes the 64 MiB carry limit):
#   benchmarks/cuda/device_run_cuda.sh quick|full|bench|verify|priority|profile|ab|prefill|packed|
#                                      experiments-engine|experiments-misc|experiments-prefill|
#                                      experiments-int8|experiments-merge
# quick: versions, `eaq hw`, the e2e parity test, the kernels' GPU unit tests, one shape at
#        f16/int8/int4-g128 (a first look, ~2 minutes);
# full:  that, plus every shape x precision beside HF transformers eager, the HF parity run, a
#        kernel trace of the 7B f16 prefill and decode, and the GEMV workbench. Each step has its
#        own time limit so one hang does not cost the rest.
# bench: versions, `eaq hw`, the kernels' GPU unit tests, the e2e parity test, then
#        `eaq bench --device cuda` on a synthetic SmolLM2-135M (the embedded model's shapes; its
#        98 MB file cannot travel) and on stories260K, and bench_engine_cuda at f16/int8/int4-g128
#        on the 1.3B and 7B shapes.
# verify: versions, the e2e parity test, the kernels' GPU unit tests, bench_engine_cuda on the
#        three shapes at f16/int8/int4-g128 (defaults), f16 with half_matvec's old warps-a-row rule
#        (EAQ_CUDA_HALF_SPLIT=rows, A/B), the HF parity run, the decode attention, f16 GEMV and
#        small-kernel workbenches (~6 minutes; each step has its own limit).
# priority: for a session with little device time (~5 min): the kernels' GPU unit tests (and the
#        attention tests under EAQ_CUDA_CLUSTER_SYNC=light) and the e2e test; the 1.3B f16 decode
#        by EAQ_CUDA_CLUSTER_SYNC (push, the default, against light), twice over; the 1.5B f16; the
#        7B f16 and int8, and f16 with a 32 MiB cuBLAS workspace; kernel traces of the 1.3B f16 and
#        7B int4-g128 decode steps; bench_decoder_ops (the small kernels and GPU sampling).
# profile: the kernels' GPU unit tests; Nsight Compute profiles (benchmarks/cuda/ncu_decode.sh,
#        packed into $OUT/ncu.tar.gz) of the decode GEMVs of the 7B shape at int8, int4-g128 and
#        f16 and of the 1.3B f16 GEMVs and cluster attention; a kernel trace of the 7B f16 prefill
#        and decode; then the e2e test (~9 minutes).
# ab:    a session's closing check: the kernels' GPU unit tests, the e2e test, bench_engine_cuda
#        on the 1.3B and 1.5B shapes at f16 twice over and the 7B at f16, int8 and int4-g128, the
#        HF parity run (~5 minutes).
# prefill: where the f16 prefill-512 goes on the three shapes: bench_prefill_gemm (the projection
#        GEMMs by every cuBLASLt candidate against cuBLAS's default), bench_attention_prefill,
#        bench_dequantize (the packed formats' f16 operands), bench_mixed_gemm and its GPU test (the
#        packed prefill GEMM against the dequantizing path), the 7B and 1.3B int4-g128 / int8 engine
#        prefill with and without it (EAQ_CUDA_PACKED_PREFILL=dequant), kernel
#        traces of each shape's f16 prefill (per-kernel time of one prefill), bench_engine_cuda at
#        f16 (~4 minutes).
# packed: the packed formats' prefill through CUTLASS's mixed-input GEMM: the kernels' GPU unit
#        tests (the mixed GEMM's among them), the e2e test (which compares its logits with the
#        dequantizing path's bit for bit), then the 7B int4-g128 / int8 and the 1.3B int4-g128
#        engine by turns: the default (mixed, int4's o_proj/down added into the residual stream by
#        the GEMM) and EAQ_CUDA_PACKED_PREFILL=dequant (~8 minutes).
# experiments-engine: the cluster attention's pushed merge (the default) against its light
#        barriers (EAQ_CUDA_CLUSTER_SYNC=light): GPU unit tests, the GEMV and attention
#        workbenches, the engine by turns, the e2e test, the HF parity run (~6 minutes).
# experiments-misc: sampled decode (GPU vs host sampling, bench_engine_cuda --sampled) on the 1.5B
#        and 7B shapes; f16 with the norm in the GEMVs (EAQ_CUDA_FUSED_NORM=gemv) against the norm
#        kernels (the default) on the 1.3B/1.5B shapes; the 7B prefill with a 32 MiB cuBLAS workspace
#        (EAQ_CUDA_CUBLAS_WORKSPACE_MIB=32); each beside the default (~6 minutes).
# experiments-prefill: the prefill as a CUDA graph: the kernels' GPU unit tests, the f16 prefill
#        of the three shapes with and without EAQ_CUDA_PREFILL_GRAPH (by turns, twice), kernel
#        traces of the 1.3B and 7B f16 prefill launched kernel by kernel, the e2e test (~5 minutes).
# experiments-int8: i8_ch on the tensor-core tiles (EAQ_CUDA_MMA_GEMV=all) against its chunk kernel
#        (the default): bench_gemv on each, then the 7B int8 decode by turns, twice (~3 minutes).
# experiments-merge: the int4 tensor-core GEMV's pushed merge (the default since 2026-12-07)
#        against its cluster barriers (EAQ_CUDA_MMA_CLUSTER_MERGE=barrier): the kernels' GPU unit
#        tests (the barrier merge's own among them), bench_tile_stream (the kernel part by part, both
#        merges, their outputs bit for bit), bench_gemv i4s_g128 under each, the 7B f16 and the 7B
#        and 1.3B int4-g128 decode by turns, twice, kernel traces of the 7B int4-g128 step under
#        each merge (beside untraced runs of the same flags), the e2e test under barrier (~6 minutes).
set -uo pipefail
mode=${1:-quick}
case $mode in
  quick|full|bench|verify|priority|profile|ab|prefill|packed|experiments-engine|experiments-misc|experiments-prefill|experiments-int8|experiments-merge) ;;
  *)
    echo "device_run_cuda.sh: unknown mode '$mode': give quick, full, bench, verify, priority, profile, ab," \
         "prefill, packed, experiments-engine, experiments-misc, experiments-prefill, experiments-int8 or experiments-merge" >&2
    exit 2
    ;;
esac
out=${OUT:-/tmp/eaq_out}
mkdir -p "$out"
# tools/device_build.sh's carry: the folder, or its tar.gz (what travels since it passed 64 MiB).
if [[ ! -d .device && -f .device.tar.gz ]]; then tar xzf .device.tar.gz; fi
source .device/env.sh
export PYTHONUNBUFFERED=1
step() {  # step LIMIT_S LOG command...
  local limit=$1 log=$2
  shift 2
  echo "=== $* ($(date -u +%T))" >>"$out/$log"
  timeout "$limit" "$@" >>"$out/$log" 2>&1
  echo "=== exit $? ($(date -u +%T))" >>"$out/$log"
}
step 60 info.log nvidia-smi
step 30 info.log eaq version
step 60 info.log eaq hw
if [[ $mode == ab ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  step 200 e2e.log python3 tests/e2e/test_engine_cuda.py
  for round in 1 2; do
    step 90 eaq_bench.log bench_engine_cuda --shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b --precision f16 \
         --repeat 3 --energy-s 0
  done
  step 150 eaq_bench.log bench_engine_cuda --shape llama2-7b --precision f16 --precision i8_ch --precision i4s_g128 \
       --repeat 2 --energy-s 0
  step 150 parity.log python3 benchmarks/cuda/compare_engine_cuda_vs_hf.py parity --bench-bin .device/bin/bench_engine_cuda \
       --new 64
  exit 0
fi
if [[ $mode == prefill ]]; then
  step 150 prefill.log bench_prefill_gemm --tokens 512
  step 150 prefill.log bench_attention_prefill  # 60 s was too short on 2026-12-07
  step 120 prefill.log bench_dequantize --reps 10
  step 150 prefill.log bench_mixed_gemm --reps 10
  step 90 prefill.log bench_mixed_gemm --quick --reps 10
  step 60 prefill.log eaq_kernels_cuda_tests --gtest_filter='MixedInputGemmCuda.*'
  for packed in mixed dequant; do
    step 120 eaq_bench.log env EAQ_CUDA_PACKED_PREFILL=$packed bench_engine_cuda --shape llama2-7b \
      --shape deepseek-coder-1.3b --precision i4s_g128 --precision i8_ch --new 16 --repeat 2 --energy-s 0
  done
  for shape in deepseek-coder-1.3b r1-distill-qwen-1.5b llama2-7b; do
    step 90 trace.log env OUT=/tmp/trace_out benchmarks/cuda/profile_decode.sh $shape f16 8
  done
  step 150 eaq_bench.log bench_engine_cuda --precision f16 --repeat 3 --energy-s 0
  exit 0
fi
if [[ $mode == packed ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  step 300 e2e.log python3 tests/e2e/test_engine_cuda.py
  for setting in EAQ_CUDA_PACKED_PREFILL=mixed EAQ_CUDA_PACKED_PREFILL=dequant; do
    step 120 eaq_bench.log env $setting bench_engine_cuda --shape llama2-7b --precision i4s_g128 --precision i8_ch \
         --new 16 --repeat 2 --energy-s 0
  done
  for setting in EAQ_CUDA_PACKED_PREFILL=mixed EAQ_CUDA_PACKED_PREFILL=dequant; do
    step 60 eaq_bench.log env $setting bench_engine_cuda --shape deepseek-coder-1.3b --precision i4s_g128 \
         --new 16 --repeat 2 --energy-s 0
  done
  exit 0
fi
if [[ $mode == experiments-merge ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  step 90 stream.log bench_tile_stream --reps 20
  for merge in barrier push; do
    step 120 gemv.log env EAQ_CUDA_MMA_CLUSTER_MERGE=$merge bench_gemv --formats i4s_g128 --reps 20
  done
  step 90 eaq_bench.log bench_engine_cuda --shape llama2-7b --precision f16 --repeat 2 --energy-s 0
  for round in 1 2; do
    for merge in barrier push; do
      step 90 eaq_bench.log env EAQ_CUDA_MMA_CLUSTER_MERGE=$merge bench_engine_cuda --shape llama2-7b \
           --shape deepseek-coder-1.3b --precision i4s_g128 --repeat 2 --energy-s 0
    done
  done
  # The int4 step kernel by kernel under each merge, beside an untraced run of the same flags
  # (a 2026-12-06 trace summed to a 1928 us step where bench_engine_cuda read 2190 us).
  for merge in barrier push; do
    step 90 trace.log env EAQ_CUDA_MMA_CLUSTER_MERGE=$merge bench_engine_cuda --shape llama2-7b --precision i4s_g128 \
         --new 16 --repeat 1 --energy-s 0
    step 90 trace.log env OUT=/tmp/trace_out EAQ_CUDA_MMA_CLUSTER_MERGE=$merge benchmarks/cuda/profile_decode.sh \
         llama2-7b i4s_g128 16
  done
  step 200 e2e.log env EAQ_CUDA_MMA_CLUSTER_MERGE=barrier python3 tests/e2e/test_engine_cuda.py
  exit 0
fi
if [[ $mode == experiments-int8 ]]; then
  for layout in 1 all; do
    step 120 gemv.log env EAQ_CUDA_MMA_GEMV=$layout bench_gemv --formats i8_ch --reps 20
  done
  for round in 1 2; do
    for layout in 1 all; do
      step 90 eaq_bench.log env EAQ_CUDA_MMA_GEMV=$layout bench_engine_cuda --shape llama2-7b --precision i8_ch \
           --new 64 --repeat 2 --energy-s 0
    done
  done
  exit 0
fi
if [[ $mode == experiments-prefill ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  all="--shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b --shape llama2-7b --precision f16 --new 16"
  for round in 1 2; do
    for env in EAQ_CUDA_PREFILL_GRAPH=1 EAQ_CUDA_PREFILL_GRAPH=0; do
      step 120 eaq_bench.log env $env bench_engine_cuda $all --repeat 3 --energy-s 0
    done
  done
  # Kernel by kernel (a graph's kernels would read as decode steps): each kernel's time and the gaps.
  for shape in deepseek-coder-1.3b llama2-7b; do
    step 90 trace.log env OUT=/tmp/trace_out EAQ_CUDA_PREFILL_GRAPH=0 benchmarks/cuda/profile_decode.sh $shape f16 8
  done
  step 200 e2e.log python3 tests/e2e/test_engine_cuda.py
  exit 0
fi
if [[ $mode == profile ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  step 45 tests.log env EAQ_CUDA_CLUSTER_SYNC=light eaq_kernels_cuda_tests "--gtest_filter=*Attention*"
  export NCU_DIR=/tmp/ncu
  step 100 ncu.log benchmarks/cuda/ncu_decode.sh llama2-7b i8_ch gemv_kernel 5
  step 100 ncu.log benchmarks/cuda/ncu_decode.sh llama2-7b i4s_g128 gemv_mma 5
  step 80 ncu.log benchmarks/cuda/ncu_decode.sh deepseek-coder-1.3b f16 "half_matvec|attention_decode_cluster" 6
  step 100 ncu.log benchmarks/cuda/ncu_decode.sh llama2-7b f16 half_matvec 5
  tar czf "$out/ncu.tar.gz" -C /tmp ncu
  step 60 trace.log benchmarks/cuda/profile_decode.sh llama2-7b f16 16
  step 150 e2e.log python3 tests/e2e/test_engine_cuda.py
  exit 0
fi
if [[ $mode == priority ]]; then
  step 150 tests.log eaq_kernels_cuda_tests
  step 45 tests.log env EAQ_CUDA_CLUSTER_SYNC=light eaq_kernels_cuda_tests "--gtest_filter=*Attention*"
  step 200 e2e.log python3 tests/e2e/test_engine_cuda.py
  small="--shape deepseek-coder-1.3b --precision f16 --repeat 3 --energy-s 0"
  for round in 1 2; do
    for env in EAQ_CUDA_CLUSTER_SYNC=push EAQ_CUDA_CLUSTER_SYNC=light; do
      step 60 eaq_bench.log env $env bench_engine_cuda $small
    done
  done
  step 60 eaq_bench.log bench_engine_cuda --shape r1-distill-qwen-1.5b --precision f16 --repeat 3 --energy-s 0
  seven="--shape llama2-7b --repeat 2 --energy-s 0"
  step 60 eaq_bench.log bench_engine_cuda $seven --precision f16
  step 60 eaq_bench.log bench_engine_cuda $seven --precision i8_ch
  step 60 eaq_bench.log env EAQ_CUDA_CUBLAS_WORKSPACE_MIB=32 bench_engine_cuda $seven --precision f16
  step 90 trace.log benchmarks/cuda/profile_decode.sh deepseek-coder-1.3b f16 64
  step 120 trace.log benchmarks/cuda/profile_decode.sh llama2-7b i4s_g128 32
  step 60 ops.log bench_decoder_ops --reps 20
  exit 0
fi
if [[ $mode != experiments-* ]]; then
  step 240 e2e.log python3 tests/e2e/test_engine_cuda.py
  if [[ -x .device/bin/eaq_kernels_cuda_tests ]]; then step 240 e2e.log eaq_kernels_cuda_tests; fi
fi
if [[ $mode == verify ]]; then
  engine() {  # engine LOG ENV... -- bench_engine_cuda args
    local log=$1
    shift
    step 240 "$log" env "$@" --repeat 2 --energy-s 1
  }
  all="--shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b --shape llama2-7b"
  # The defaults on every shape and precision (the decode attention picked by its rule: cluster on
  # the 1.3B/1.5B shapes, split-K on the 7B one); f16 with half_matvec's old warps-a-row rule (A/B);
  # the HF parity run; the decode attention and f16 GEMV workbenches.
  engine eaq_bench.log EAQ_CUDA_FUSED_NORM=kernel bench_engine_cuda $all --precision f16 --precision i8_ch \
         --precision i4s_g128 --jsonl "$out/eaq_default.jsonl"
  engine eaq_bench.log EAQ_CUDA_HALF_SPLIT=rows bench_engine_cuda $all --precision f16
  step 120 parity.log python3 benchmarks/cuda/compare_engine_cuda_vs_hf.py parity --bench-bin .device/bin/bench_engine_cuda \
       --new 64
  step 90 attention.log bench_attention_decode --reps 10
  step 90 attention.log bench_half_matvec --reps 20
  step 90 attention.log bench_decoder_ops --reps 20
  exit 0
fi
if [[ $mode == experiments-engine ]]; then
  # The cluster attention's pushed merge (the default) against its light barriers
  # (EAQ_CUDA_CLUSTER_SYNC=light): the kernels' GPU unit tests (the attention ones again under
  # light); bench_half_matvec; bench_attention_decode under each; the engine's f16 decode on the
  # 1.3B/1.5B shapes by turns, twice; the 7B at f16/int8/int4-g128; the e2e test; the HF parity
  # run (~6 minutes).
  step 150 tests.log eaq_kernels_cuda_tests
  step 60 tests.log env EAQ_CUDA_CLUSTER_SYNC=light eaq_kernels_cuda_tests "--gtest_filter=*Attention*"
  step 60 gemv.log bench_half_matvec --reps 20
  for env in EAQ_CUDA_CLUSTER_SYNC=push EAQ_CUDA_CLUSTER_SYNC=light; do
    step 60 attention.log env $env bench_attention_decode --reps 10
  done
  small="--shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b --precision f16 --repeat 3 --energy-s 0"
  for round in 1 2; do
    for env in EAQ_CUDA_CLUSTER_SYNC=push EAQ_CUDA_CLUSTER_SYNC=light; do
      step 60 eaq_bench.log env $env bench_engine_cuda $small
    done
  done
  step 120 eaq_bench.log bench_engine_cuda --shape llama2-7b --precision f16 --precision i8_ch --precision i4s_g128 \
       --repeat 2 --energy-s 0
  step 200 e2e.log python3 tests/e2e/test_engine_cuda.py
  step 150 parity.log python3 benchmarks/cuda/compare_engine_cuda_vs_hf.py parity \
       --bench-bin .device/bin/bench_engine_cuda --new 64
  exit 0
fi
if [[ $mode == experiments-misc ]]; then
  # Sampled decode as `eaq generate` runs it: GPU sampling against host sampling (Qwen2's 151936 vocabulary).
  step 150 eaq_bench.log bench_engine_cuda --shape r1-distill-qwen-1.5b --shape llama2-7b --precision f16 --repeat 1 \
       --energy-s 0 --sampled
  # The RMSNorm in the f16 GEMVs against the norm kernels (the default).
  small="--shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b"
  for env in EAQ_CUDA_FUSED_NORM=kernel EAQ_CUDA_FUSED_NORM=gemv; do
    step 120 eaq_bench.log env "$env" bench_engine_cuda $small --precision f16 --repeat 2 --energy-s 0
  done
  # A 32 MiB cuBLAS workspace (NVIDIA's recommendation for Hopper) against cuBLAS's default pool:
  # prefill of the 7B shape, the peak GEMM measured with the same workspace.
  for env in EAQ_CUDA_FUSED_NORM=kernel EAQ_CUDA_CUBLAS_WORKSPACE_MIB=32; do
    step 120 eaq_bench.log env "$env" bench_engine_cuda --shape llama2-7b --precision f16 --repeat 2 --energy-s 0
  done
  exit 0
fi
if [[ $mode == bench ]]; then
  smol=/tmp/smollm2-135m-synthetic
  step 120 eaq_bench.log eaq synth --config benchmarks/cuda/configs/smollm2-135m.json --dtype bf16 \
       --tokenizer .device/shared/tokenizers/llama2/tokenizer.json -o "$smol"
  step 180 eaq_bench.log eaq bench -m "$smol" --device cuda -p 64 -n 16 -r 3 --idle 2 --cooldown 0.5 --no-progress
  step 180 eaq_bench.log eaq bench -m "$smol" --device cuda --precision fp16,int8,int4-g128 --no-progress \
       -o jsonl --out "$out/bench_cuda.jsonl"
  step 120 eaq_bench.log eaq bench -m .device/shared/models/stories260K/stories260K.bin --device cuda -p 32 -n 16 -r 3 --idle 1 --no-progress
  step 240 eaq_bench.log bench_engine_cuda --shape deepseek-coder-1.3b --shape llama2-7b --precision f16 \
       --precision i8_ch --precision i4s_g128 --energy-s 2 --jsonl "$out/eaq.jsonl"
  exit 0
fi
if [[ $mode == quick ]]; then
  step 180 eaq_bench.log bench_engine_cuda --shape deepseek-coder-1.3b --precision f16 --precision i8_ch \
       --precision i4s_g128 --energy-s 2 --jsonl "$out/eaq.jsonl"
  exit 0
fi
step 300 eaq_bench.log bench_engine_cuda --shape deepseek-coder-1.3b --shape r1-distill-qwen-1.5b --shape llama2-7b \
     --jsonl "$out/eaq.jsonl"
# Where the 7B f16 prefill and decode spend their time, kernel by kernel (the table in trace.log;
# the raw trace stays on the GPU machine: at most 8 files come back).
step 120 trace.log env OUT=/tmp/trace_out benchmarks/cuda/profile_decode.sh llama2-7b f16 16
step 300 hf.log python3 benchmarks/cuda/compare_engine_cuda_vs_hf.py bench --jsonl "$out/hf.jsonl"
step 240 hf.log python3 benchmarks/cuda/compare_engine_cuda_vs_hf.py parity --bench-bin .device/bin/bench_engine_cuda \
     --new 64
if [[ -x .device/bin/bench_gemv ]]; then step 120 gemv.log bench_gemv; fi
