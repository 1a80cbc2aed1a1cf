#!/usr/bin/env bash
# Issue [eval]'s GPU bar: full MMLU (14,042 items, 5-shot, lm-eval's prompts) on a 1.5B-shaped
# model in under 3 minutes. Runs on the GPU machine after `source .device/env.sh`
# (tools/device_build.sh), with the mmlu dataset and the Qwen3 tokenizer under $EAQ_SHARED.
#
# 1. The model: `eaq synth` of DeepSeek-R1-Distill-Qwen-1.5B's published config (random f16
#    weights, flagged synthetic), with the real Qwen tokenizer, so the prompts have real lengths.
#    Its accuracy means nothing (~0.25); its time is what is measured.
# 2. The full `eaq eval --device cuda --task mmlu`, its wall time printed beside the 180 s bar.
# 3. The GPU's scores checked against eaq's CPU engine on a small synthetic Qwen2 (same vocabulary,
#    4 layers), 2 items per subject: max |Δ log-likelihood| and how many items pick the same choice.
#
#   benchmarks/cuda/bench_eval_mmlu_cuda.sh [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
eaq=${EAQ_BIN:-eaq}
shared=${EAQ_SHARED:-$root/../shared}
data=$shared/datasets
tokenizer=$shared/tokenizers/qwen3/tokenizer.json
work=${1:-/tmp/eaq_bench_eval_mmlu}
mkdir -p "$work"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

echo "== synthetic R1-Distill-Qwen-1.5B (f16)"
"$eaq" synth --config "$root/benchmarks/cuda/configs/r1-distill-qwen-1.5b.json" --dtype f16 \
  --tokenizer "$tokenizer" -o "$work/q15" 2>/dev/null

echo "== full MMLU on cuda"
start=$(date +%s.%N)
"$eaq" eval "$work/q15" --device cuda --task mmlu --data-dir "$data" --no-progress \
  --items-out "$work/mmlu_cuda.items.jsonl" --out "$work/mmlu_cuda.md"
end=$(date +%s.%N)
cat "$work/mmlu_cuda.md"
python3 - "$start" "$end" "$work/mmlu_cuda.items.jsonl" <<'PY'
import json, sys
start, end, items = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
n = sum(1 for _ in open(items))
wall = end - start
print(f"full MMLU: {n} items in {wall:.1f} s wall (model load included), {n / wall:.1f} items/s; "
      f"bar: < 180 s -> {'met' if n == 14042 and wall < 180 else 'NOT met'}")
PY

echo "== CPU vs GPU scores, small synthetic Qwen2, 2 items per subject"
python3 - "$root/benchmarks/cuda/configs/r1-distill-qwen-1.5b.json" "$work/small_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2,
         num_hidden_layers=4)
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
"$eaq" synth --config "$work/small_config.json" --dtype f16 --tokenizer "$tokenizer" -o "$work/small" 2>/dev/null
for device in cpu cuda; do
  "$eaq" eval "$work/small" --device "$device" --task mmlu --limit 2 --data-dir "$data" \
    --no-progress --energy off --items-out "$work/small_$device.items.jsonl" --out /dev/null
done
python3 - "$work/small_cpu.items.jsonl" "$work/small_cuda.items.jsonl" <<'PY'
import json, sys
cpu = [json.loads(l) for l in open(sys.argv[1])]
gpu = [json.loads(l) for l in open(sys.argv[2])]
assert len(cpu) == len(gpu), (len(cpu), len(gpu))
same = sum(a["predicted"] == b["predicted"] for a, b in zip(cpu, gpu))
delta = max(abs(x - y) for a, b in zip(cpu, gpu) for x, y in zip(a["log_likelihoods"], b["log_likelihoods"]))
gaps = [sorted(a["log_likelihoods"])[-1] - sorted(a["log_likelihoods"])[-2] for a in cpu]
print(f"{len(cpu)} items: same choice on {same}; max |d log-likelihood| {delta:.4f}; "
      f"smallest top-2 gap on CPU {min(gaps):.4f}")
PY
