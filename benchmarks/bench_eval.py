#!/usr/bin/env python3
"""Items/s per accuracy task on the embedded model (CPU engine): runs `eaq eval` once per task
with a limit and prints one self-describing row per task (task, items, wall s, items/s, prompt
tokens, tokens/s, accuracy, threads, git sha, host).

  python3 benchmarks/bench_eval.py [--eaq build/eaq] [--limit 50] [--threads N]
      [--tasks arc_easy,arc_challenge,hellaswag,truthfulqa_mc1,truthfulqa_mc2,sst2,mmlu]
(mmlu's limit is per subject, as lm-eval's; --mmlu-limit sets it, default 1 = 57 items.)
"""
import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eaq", default=os.environ.get("EAQ_BIN", str(ROOT / "build" / "eaq")))
    ap.add_argument("--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--tasks", default="arc_easy,arc_challenge,hellaswag,truthfulqa_mc1,truthfulqa_mc2,sst2,mmlu")
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--mmlu-limit", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON row per task instead of a table")
    args = ap.parse_args()
    if not Path(args.model).exists():
        sys.exit(f"no model at {args.model} (scripts/fetch_models.sh)")
    rows = []
    for task in args.tasks.split(","):
        limit = args.mmlu_limit if task == "mmlu" else args.limit
        cmd = [args.eaq, "eval", args.model, "--task", task, "--limit", str(limit), "--data-dir", args.data_dir,
               "-o", "json", "--no-progress", "--energy", "off"]
        if args.threads:
            cmd += ["-t", str(args.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        r = json.loads(proc.stdout)[0]
        head = next(iter(r["metrics"].items()))
        rows.append({"task": task, "items": r["items"], "wall_s": round(r["wall_s"], 2),
                     "items_per_s": round(r["items_per_s"], 3), "prompt_tokens": r["prompt_tokens"],
                     "scored_tokens": r["scored_tokens"],
                     "tokens_per_s": round((r["prompt_tokens"] + r["scored_tokens"]) / r["wall_s"], 1),
                     "metric": head[0], "value": round(head[1]["value"], 4), "threads": args.threads or "default",
                     "git_sha": r["git_sha"], "host": platform.node(), "cpus": os.cpu_count()})
        if args.json:
            print(json.dumps(rows[-1]), flush=True)
        else:
            x = rows[-1]
            print(f"{x['task']:<16} {x['items']:>5} items {x['wall_s']:>8.1f} s {x['items_per_s']:>7.2f} items/s "
                  f"{x['tokens_per_s']:>8.1f} tok/s  {x['metric']} {x['value']:.4f}", flush=True)


if __name__ == "__main__":
    main()
