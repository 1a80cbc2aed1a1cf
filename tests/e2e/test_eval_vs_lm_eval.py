#!/usr/bin/env python3
"""`eaq eval` vs lm-evaluation-harness: per-item choices on the embedded model.

The reference is tests/golden/eval/<task>.jsonl, made by tools/make_eval_fixtures.py with lm-eval
(HF backend, the same GGUF dequantized by transformers, lm-eval's own task YAML on the same rows).
For every item this checks that eaq built the same prompt (sha256 of lm-eval's context string and
of its continuations) and counts the items where eaq chooses the same answer (argmax
log-likelihood); it requires >= 99% agreement per task and prints both accuracies.

CI mode (default, ~2-3 minutes on 2 cores): runs eaq on the first items of arc_easy and sst2
(EAQ_EVAL_CI_ITEMS, default 100), of truthfulqa_mc1 and truthfulqa_mc2 (EAQ_EVAL_CI_TQA_ITEMS,
default 25) and on 4 MMLU subjects (1 item each, 5-shot).
Full mode: EAQ_EVAL_ITEMS_DIR=DIR compares DIR/<task>.items.jsonl files that `eaq eval
--items-out` wrote for every fixture task (the 200-item comparison; see docs/eval.md).
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("EAQ_ROOT", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("EAQ_SHARED", ROOT.parent / "shared"))
EAQ = os.environ.get("EAQ_BIN", str(ROOT / "build" / "eaq"))
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
FIXTURES = ROOT / "tests" / "golden" / "eval"
CI_MMLU_SUBJECTS = 4  # the first subjects of the mmlu fixture, 1 item each
CI_TQA_TASKS = ["truthfulqa_mc1", "truthfulqa_mc2"]


def sha16(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(task, eaq_items, reference):
    """Returns (n, agree, prompt_mismatches, eaq_acc, ref_acc, ref_metric, eaq_metric, disagreements)."""
    eaq_by_id = {}
    for it in eaq_items:
        eaq_by_id.setdefault(it["id"], it)
    n = agree = prompt_bad = 0
    eaq_correct = ref_correct = 0
    ref_metric = eaq_metric = 0.0
    disagreements = []
    for ref in reference:
        it = eaq_by_id.get(ref["id"])
        if it is None:
            continue
        n += 1
        continuations = [it["target_delimiter"] + c for c in it["choices"]]
        if sha16(it["context"]) != ref["context_sha256"] or sha16("\x1f".join(continuations)) != ref["choices_sha256"]:
            prompt_bad += 1
        if it["predicted"] == ref["pred"]:
            agree += 1
        else:
            lls = ref["ll"]
            top = sorted(lls, reverse=True)
            disagreements.append({"id": ref["id"], "eaq": it["predicted"], "lm_eval": ref["pred"],
                                  "lm_eval_margin": round(top[0] - top[1], 4) if len(top) > 1 else None,
                                  "eaq_ll": [round(x, 4) for x in it["log_likelihoods"]], "lm_eval_ll": lls})
        eaq_correct += it["predicted"] == it["gold"]
        ref_correct += ref["pred"] == ref["gold"]
        ref_metric += ref["metric"] if ref.get("metric") is not None else 0.0
        eaq_metric += next(iter(it["metrics"].values()))
    return n, agree, prompt_bad, eaq_correct, ref_correct, ref_metric, eaq_metric, disagreements


def run_eaq(tasks, limit, items_path):
    cmd = [EAQ, "eval", str(MODEL), "--task", ",".join(tasks), "--limit", str(limit), "--data-dir",
           str(SHARED / "datasets"), "--items-out", str(items_path), "--no-progress", "--energy", "off", "-o", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"FAIL: {' '.join(cmd)}\n{proc.stderr}")
        sys.exit(1)
    return json.loads(proc.stdout)


def main():
    if not MODEL.exists():
        print(f"SKIP: no embedded model at {MODEL} (scripts/fetch_models.sh)")
        return 77
    if not (SHARED / "datasets").exists():
        print(f"SKIP: no datasets at {SHARED / 'datasets'}")
        return 77
    items_dir = os.environ.get("EAQ_EVAL_ITEMS_DIR")
    eaq_items = {}
    if items_dir:
        for fixture in sorted(FIXTURES.glob("*.jsonl")):
            path = Path(items_dir) / f"{fixture.stem}.items.jsonl"
            if path.exists():
                eaq_items[fixture.stem] = load_jsonl(path)
    else:
        n_ci = int(os.environ.get("EAQ_EVAL_CI_ITEMS", "100"))
        with tempfile.TemporaryDirectory() as tmp:
            items = Path(tmp) / "items.jsonl"
            run_eaq(["arc_easy", "sst2"], n_ci, items)
            for it in load_jsonl(items):
                eaq_items.setdefault(it["task"], []).append(it)
            tqa = [t for t in CI_TQA_TASKS if (FIXTURES / f"{t}.jsonl").exists()]
            if tqa:
                run_eaq(tqa, int(os.environ.get("EAQ_EVAL_CI_TQA_ITEMS", "25")), items)
                for it in load_jsonl(items):
                    eaq_items.setdefault(it["task"], []).append(it)
            subjects = []
            for ref in load_jsonl(FIXTURES / "mmlu.jsonl"):
                subject = ref["id"].split("/")[0]
                if subject not in subjects and len(subjects) < CI_MMLU_SUBJECTS:
                    subjects.append(subject)
            run_eaq([f"mmlu_{s}" for s in subjects], 1, items)
            eaq_items["mmlu"] = load_jsonl(items)
            for it in eaq_items["mmlu"]:
                it["task"] = "mmlu"
    failed = False
    print(f"{'task':<16} {'items':>5} {'agree':>7} {'prompts≠':>8} {'eaq acc':>8} {'lm-eval acc':>11} {'eaq metric':>10} {'lm-eval metric':>14}")
    for task, items in sorted(eaq_items.items()):
        fixture = FIXTURES / f"{task}.jsonl"
        if not fixture.exists():
            print(f"FAIL: no fixture {fixture}")
            failed = True
            continue
        n, agree, prompt_bad, eaq_c, ref_c, ref_m, eaq_m, dis = compare(task, items, load_jsonl(fixture))
        if n == 0:
            print(f"FAIL: {task}: no item of eaq's output is in the fixture")
            failed = True
            continue
        print(f"{task:<16} {n:>5} {agree / n:>7.1%} {prompt_bad:>8} {eaq_c / n:>8.4f} {ref_c / n:>11.4f} "
              f"{eaq_m / n:>10.4f} {ref_m / n:>14.4f}")
        for d in dis[:5]:
            print(f"    disagreement {d}")
        if prompt_bad:
            print(f"FAIL: {task}: {prompt_bad} items whose prompt differs from lm-eval's")
            failed = True
        if agree < 0.99 * n:
            print(f"FAIL: {task}: {agree}/{n} items agree with lm-eval (< 99%)")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
