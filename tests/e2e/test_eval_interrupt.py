#!/usr/bin/env python3
"""e2e: an interrupted `eaq eval` keeps what it measured. On stories260K (fast, any accuracy), a run
of hellaswag then arc_easy is stopped once its per-item file holds 20 items:

- SIGINT: exit 130; the report (-o json) has hellaswag only, marked interrupted, its `items` the
  items run (equal to the per-item file's lines) out of `task_items`, with accuracy over those;
  arc_easy, never started, is absent. The markdown report says how far the task got.
- SIGKILL: every line of the per-item file is a complete JSON record (written and flushed per item),
  at least as many as were there before the signal.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

EAQ = os.environ["EAQ_BIN"]
SHARED = os.environ["EAQ_SHARED"]
MODEL = os.path.join(SHARED, "models", "stories260K", "stories260K.bin")
DATA = os.path.join(SHARED, "datasets")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def start(tmp, name, extra):
    items = os.path.join(tmp, f"{name}.items.jsonl")
    cmd = [EAQ, "eval", MODEL, "--task", "hellaswag,arc_easy", "--data-dir", DATA, "--threads", "1",
           "--energy", "off", "--no-progress", "--items-out", items] + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    seen = 0
    while time.time() < deadline and seen < 20 and proc.poll() is None:
        time.sleep(0.05)
        seen = len(lines(items))
    check(seen >= 20, f"{name}: 20 items written before the signal (saw {seen})")
    return proc, items, seen


def main():
    for path in (MODEL, os.path.join(DATA, "hellaswag")):
        if not os.path.exists(path):
            print(f"skip: {path} is missing")
            return 77
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        proc, items, _ = start(tmp, "sigint", ["-o", "json", "--out", report])
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        check(proc.returncode == 130, f"SIGINT: exit {proc.returncode} (want 130); stderr {stderr[-300:]}")
        check("interrupted" in stderr, f"SIGINT: stderr says the run was interrupted: {stderr[-300:]}")
        records = [json.loads(l) for l in lines(items)]
        rows = json.load(open(report, encoding="utf-8")) if os.path.exists(report) else []
        check([r["task"] for r in rows] == ["hellaswag"], f"SIGINT: the report has hellaswag only: {rows}")
        if rows:
            r = rows[0]
            check(r["interrupted"] is True, "SIGINT: the row is marked interrupted")
            check(r["items"] == len(records) and r["items"] >= 20,
                  f"SIGINT: items {r['items']} = the {len(records)} per-item records")
            check(r["task_items"] > r["items"], f"SIGINT: task_items {r['task_items']} > items {r['items']}")
            correct = sum(rec["verdict"] == "correct" for rec in records)
            check(r["correct"] == correct, f"SIGINT: correct {r['correct']} = {correct} in the records")
            acc = r["metrics"]["acc"]["value"]
            check(abs(acc - correct / len(records)) < 1e-9, f"SIGINT: acc {acc} over the items run")

        proc, items, _ = start(tmp, "sigint_md", [])
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
        check(proc.returncode == 130, f"SIGINT (md): exit {proc.returncode}")
        check("hellaswag (auto): interrupted (SIGINT) after" in stdout and " of 10042 " in stdout,
              f"SIGINT (md): the report says how far the task got: {stdout[-400:]}")

        proc, items, seen = start(tmp, "sigkill", [])
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        kept = lines(items)
        check(len(kept) >= seen, f"SIGKILL: {len(kept)} records kept, {seen} were there before the signal")
        for i, line in enumerate(kept):
            try:
                json.loads(line)
            except ValueError:
                check(False, f"SIGKILL: line {i + 1} of the per-item file is not complete JSON: {line[:80]}")
                break
    print("PASS" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
