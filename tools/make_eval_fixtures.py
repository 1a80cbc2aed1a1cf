#!/usr/bin/env python3
"""Golden fixtures for `eaq eval`: lm-evaluation-harness's per-item choices on the embedded model.

lm-eval (PyPI `lm-eval`, HF backend) runs its own task configs (the YAML shipped in the package:
arc_easy, arc_challenge, hellaswag, mmlu_<subject> (5-shot, first_n from dev), truthfulqa_mc1/mc2,
sst2) on the SAME rows eaq reads: each dataset file of ../shared/datasets is turned into the row
layout of the HF dataset the YAML names, and the YAML's dataset_path is pointed at that local json
file (nothing is fetched from the HF hub). The model is the embedded GGUF, dequantized by
transformers (`from_pretrained(dir, gguf_file=...)`), tokenizer from the same GGUF.

Per task it writes tests/golden/eval/<task>.jsonl, one line per item:
  {"id", "context_sha256" (of lm-eval's context string, first 16 hex), "choices_sha256",
   "pred" (argmax log-likelihood), "pred_norm" (argmax ll / len(choice)), "gold", "ll" (rounded),
   "metric" (lm-eval's per-item headline value)}
and tests/golden/eval/manifest.json with versions, the command and lm-eval's accuracies.

Regenerate (slow: minutes per task on 2 cores):
  python3 tools/make_eval_fixtures.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
      --data-dir ../shared/datasets --limit 200 --mmlu-limit 4 --out tests/golden/eval
"""
import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ALL_TASKS = ["arc_easy", "sst2", "mmlu", "hellaswag", "arc_challenge", "truthfulqa_mc1", "truthfulqa_mc2"]


def sha16(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return str(path)


# --- shared/datasets rows -> the HF dataset row layouts the lm-eval YAML expects -----------------

def arc_rows(data_dir, subset):
    rows = []
    with open(Path(data_dir) / "arc" / f"ARC-{subset}-Test.jsonl", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            rows.append({"id": d["id"], "question": d["question"]["stem"],
                         "choices": {"text": [c["text"] for c in d["question"]["choices"]],
                                     "label": [c["label"] for c in d["question"]["choices"]]},
                         "answerKey": d["answerKey"]})
    return rows


def hellaswag_rows(data_dir):
    # llama.cpp layout: "activity_label: ctx", gold, 4 endings. ctx_a/ctx_b are already joined
    # there, so the row gets ctx_a = the whole ctx and ctx_b = "" (lm-eval then builds
    # preprocess(label + ": " + ctx + " ") = preprocess(line), the same text eaq uses).
    lines = (Path(data_dir) / "hellaswag" / "hellaswag_val_full.txt").read_text(encoding="utf-8").split("\n")
    rows = []
    for i in range(0, len(lines) - 5, 6):
        label, _, ctx = lines[i].partition(": ")
        assert _, f"line {i + 1} has no 'activity_label: '"
        rows.append({"ind": i // 6, "activity_label": label, "ctx_a": ctx, "ctx_b": "", "ctx": ctx,
                     "endings": lines[i + 2:i + 6], "label": lines[i + 1]})
    return rows


def split_multi_answer(answers):
    # TruthfulQA's utilities.split_multi_answer (close=True).
    out = []
    for a in answers.strip().split(";"):
        a = a.strip()
        if a:
            out.append(a if a.endswith(".") else a + ".")
    return out


def truthfulqa_rows(data_dir):
    rows = []
    with open(Path(data_dir) / "truthfulqa" / "TruthfulQA.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            best = r["Best Answer"].strip()
            best = best if best.endswith(".") else best + "."
            true, false = split_multi_answer(r["Correct Answers"]), split_multi_answer(r["Incorrect Answers"])
            rows.append({"question": r["Question"],
                         "mc1_targets": {"choices": [best] + false, "labels": [1] + [0] * len(false)},
                         "mc2_targets": {"choices": true + false, "labels": [1] * len(true) + [0] * len(false)}})
    return rows


def sst2_rows(data_dir):
    rows = []
    with open(Path(data_dir) / "sst2" / "dev.tsv", encoding="utf-8") as f:
        header = f.readline()
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if not line:
                continue
            sentence, label = line.split("\t")
            rows.append({"sentence": sentence, "label": int(label), "idx": i})
    return rows


def mmlu_rows(path, subject):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for k, r in enumerate(csv.reader(f)):
            if k == 0 and r[0] == "question":
                continue
            ans = r[5]
            rows.append({"question": r[0], "subject": subject, "choices": r[1:5],
                         "answer": "ABCD".index(ans) if ans in "ABCD" else int(ans)})
    return rows


# --- lm-eval task objects on local files ---------------------------------------------------------

def lm_eval_task(yaml_rel, splits, overrides=None):
    import lm_eval
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml
    cfg = load_yaml(Path(lm_eval.__file__).parent / "tasks" / yaml_rel)
    for key in ("tag", "group", "task_alias"):
        cfg.pop(key, None)
    cfg["dataset_path"] = "json"
    cfg["dataset_name"] = None
    cfg["dataset_kwargs"] = {"data_files": splits}
    for key in ("training_split", "validation_split", "test_split", "fewshot_split"):
        cfg[key] = None
    cfg.update(overrides or {})
    return ConfigurableTask(config=cfg)


def build_tasks(names, data_dir, tmp, mmlu_subjects):
    tasks = {}  # lm-eval task name -> (eaq task, id of a sample)
    for name in names:
        if name in ("arc_easy", "arc_challenge"):
            subset = "Easy" if name == "arc_easy" else "Challenge"
            path = write_jsonl(tmp / f"{name}.jsonl", arc_rows(data_dir, subset))
            t = lm_eval_task(f"arc/{name}.yaml", {"test": path}, {"test_split": "test"})
            tasks[name] = (t, name, lambda s: s["doc"]["id"])
        elif name == "hellaswag":
            path = write_jsonl(tmp / "hellaswag.jsonl", hellaswag_rows(data_dir))
            t = lm_eval_task("hellaswag/hellaswag.yaml", {"validation": path}, {"validation_split": "validation"})
            tasks[name] = (t, name, lambda s: str(s["doc_id"]))
        elif name in ("truthfulqa_mc1", "truthfulqa_mc2"):
            path = write_jsonl(tmp / "truthfulqa.jsonl", truthfulqa_rows(data_dir))
            t = lm_eval_task(f"truthfulqa/{name}.yaml", {"validation": path}, {"validation_split": "validation"})
            tasks[name] = (t, name, lambda s: str(s["doc_id"]))
        elif name == "sst2":
            path = write_jsonl(tmp / "sst2.jsonl", sst2_rows(data_dir))
            t = lm_eval_task("glue/sst2/default.yaml", {"validation": path}, {"validation_split": "validation"})
            tasks[name] = (t, name, lambda s: str(s["doc_id"]))
        elif name == "mmlu":
            for subject in mmlu_subjects:
                test = write_jsonl(tmp / f"mmlu_{subject}_test.jsonl",
                                   mmlu_rows(Path(data_dir) / "mmlu" / "test" / f"{subject}_test.csv", subject))
                dev = write_jsonl(tmp / f"mmlu_{subject}_dev.jsonl",
                                  mmlu_rows(Path(data_dir) / "mmlu" / "dev" / f"{subject}_dev.csv", subject))
                t = lm_eval_task(f"mmlu/default/mmlu_{subject}.yaml", {"test": test, "dev": dev},
                                 {"test_split": "test", "fewshot_split": "dev", "num_fewshot": 5})
                tasks[f"mmlu_{subject}"] = (t, "mmlu", (lambda subj: lambda s: f"{subj}/{s['doc_id']}")(subject))
        else:
            sys.exit(f"unknown task {name}")
    return tasks


def request_args(sample):
    # lm-eval's sample "arguments": one (context, continuation) per choice, in one of two shapes.
    args = sample["arguments"]
    if isinstance(args, dict):
        args = [(a["arg_0"], a["arg_1"]) for a in args.values()]
    return [tuple(a) for a in args]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--data-dir", default="../shared/datasets")
    ap.add_argument("--tasks", default=",".join(ALL_TASKS))
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--mmlu-limit", type=int, default=4, help="items per MMLU subject (lm-eval's --limit is per subtask)")
    ap.add_argument("--mmlu-subjects", default="", help="comma-separated subjects (default: all 57)")
    ap.add_argument("--task-limit", default="", help="per-task limits, e.g. truthfulqa_mc2=100")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--out", default="tests/golden/eval")
    args = ap.parse_args()

    import torch
    import transformers
    import lm_eval
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model_path = Path(args.model)
    tok = transformers.AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(model_path.parent), gguf_file=model_path.name,
                                                              dtype=torch.float32)
    model.eval()
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.batch_size, device="cpu")

    subjects = [s for s in args.mmlu_subjects.split(",") if s] or sorted(
        p.name[: -len("_test.csv")] for p in (Path(args.data_dir) / "mmlu" / "test").glob("*_test.csv"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"tasks": {}}
    manifest.update({
        "generator": "tools/make_eval_fixtures.py",
        "command": " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
        "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "",
        "transformers": transformers.__version__, "torch": torch.__version__,
        "model": model_path.name,
        "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
    })
    with tempfile.TemporaryDirectory() as tmpdir:
        tasks = build_tasks([t for t in args.tasks.split(",") if t], args.data_dir, Path(tmpdir), subjects)
        by_eaq_task = {}
        limits = {k: int(v) for k, v in (kv.split("=") for kv in args.task_limit.split(",") if kv)}
        for lm_name, (task, eaq_task, id_of) in tasks.items():
            limit = args.mmlu_limit if eaq_task == "mmlu" else limits.get(eaq_task, args.limit)
            t0 = time.time()
            res = evaluator.simple_evaluate(model=lm, tasks=[task], limit=limit, log_samples=True,
                                            bootstrap_iters=0, random_seed=0, numpy_random_seed=0,
                                            torch_random_seed=0)
            samples = next(iter(res["samples"].values()))
            for s in sorted(samples, key=lambda s: s["doc_id"]):
                pairs = request_args(s)
                lls = [float(r[0]) for r in s["filtered_resps"]]
                choices = [c for _, c in pairs]
                doc_choices = task.doc_to_choice(s["doc"])
                norm = [ll / len(c) for ll, c in zip(lls, doc_choices)]
                by_eaq_task.setdefault(eaq_task, []).append({
                    "id": id_of(s), "context_sha256": sha16(pairs[0][0]),
                    "choices_sha256": sha16("\x1f".join(choices)),
                    "pred": max(range(len(lls)), key=lambda i: (lls[i], -i)),
                    "pred_norm": max(range(len(norm)), key=lambda i: (norm[i], -i)),
                    "gold": s["target"] if isinstance(s["target"], int) else int(s["target"]),
                    "ll": [round(x, 4) for x in lls],
                    "metric": s.get("acc"),
                })
            print(f"{lm_name}: {len(samples)} items, {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
            # Written after every (sub)task so that a long run keeps what it has done.
            rows = by_eaq_task[eaq_task]
            write_jsonl(out / f"{eaq_task}.jsonl", rows)
            manifest["tasks"][eaq_task] = {
                "items": len(rows), "lm_eval_acc": sum(r["metric"] for r in rows) / len(rows),
                "acc_from_pred": sum(r["pred"] == r["gold"] for r in rows) / len(rows),
                "limit": limit, "seconds": round(time.time() - t0, 1)}
            manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
