#!/usr/bin/env python3
"""e2e: `eaq generate`, `eaq score` and `eaq logits` on stories260K and the embedded SmolLM2 GGUF.

- stories260K greedy generation from "Once upon a time" equals transformers' 64 greedy tokens
  (the committed fixture tests/golden/engine/stories260K, made by tools/convert_llama2c_to_hf.py);
- SmolLM2 with --chat answers "What is the capital of France?" with Paris;
- score ranks " Paris" above " London" after "The capital of France is";
- bad input: a prompt longer than the context fails with a clear message (and --truncate runs),
  invalid sampling parameters fail naming the flag, a missing model fails naming the path.
"""
import json
import os
import subprocess
import sys

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
STORIES = os.path.join(SHARED, "models", "stories260K")
SMOL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
failures = []


def run(*args):
    return subprocess.run([EAQ, *args], capture_output=True, text=True, timeout=600)


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
    if not ok:
        failures.append(name)


def main():
    fixture = json.load(open(os.path.join(ROOT, "tests", "golden", "engine", "stories260K", "greedy_ids.json")))
    r = run("generate", os.path.join(STORIES, "stories260K.bin"), "--tokenizer", os.path.join(STORIES, "tok512.bin"),
            "-p", "Once upon a time", "-n", "64", "--temp", "0", "--ignore-eos", "--json", "-t", "2")
    check("stories260K generate runs", r.returncode == 0, r.stderr.strip()[-300:])
    if r.returncode == 0:
        out = json.loads(r.stdout)
        check("stories260K: 64 greedy tokens equal transformers'", out["tokens"] == fixture["ids"],
              f"eaq {out['tokens'][:8]}... vs {fixture['ids'][:8]}...")

    if os.path.exists(SMOL):
        r = run("generate", SMOL, "--chat", "-p", "What is the capital of France?", "-n", "32", "--json", "-t", "2")
        check("SmolLM2 chat runs", r.returncode == 0, r.stderr.strip()[-300:])
        if r.returncode == 0:
            text = json.loads(r.stdout)["text"]
            check("SmolLM2 chat answers Paris", "Paris" in text, repr(text))

        r = run("score", SMOL, "--context", "The capital of France is", "--continuation", " Paris",
                "--continuation", " London", "--json", "-t", "2")
        check("score runs", r.returncode == 0, r.stderr.strip()[-300:])
        if r.returncode == 0:
            scores = json.loads(r.stdout)
            check("score: ' Paris' more likely than ' London'", scores[0]["log_likelihood"] > scores[1]["log_likelihood"],
                  f"{scores[0]['log_likelihood']:.3f} vs {scores[1]['log_likelihood']:.3f}")

        long_prompt = "word " * 300
        r = run("generate", SMOL, "-p", long_prompt, "-c", "128", "-n", "8", "-t", "2")
        check("prompt longer than the context: clear error", r.returncode != 0 and "--truncate" in r.stderr
              and "context" in r.stderr, r.stderr.strip()[-300:])
        r = run("generate", SMOL, "-p", long_prompt, "-c", "128", "-n", "8", "--truncate", "--json", "-t", "2")
        check("--truncate keeps the prompt's tail and runs", r.returncode == 0 and
              json.loads(r.stdout)["prompt_tokens"] <= 120, r.stderr.strip()[-300:])

    stories = [os.path.join(STORIES, "stories260K.bin"), "--tokenizer", os.path.join(STORIES, "tok512.bin"), "-p", "Hi"]
    for flags, needle in [(["--temp", "-1"], "--temp"), (["--top-p", "0"], "--top-p"), (["--min-p", "1.5"], "--min-p"),
                          (["--repeat-penalty", "0"], "--repeat-penalty"), (["-n", "-3"], "-n"),
                          (["--top-k", "-2"], "--top-k"), (["--weights", "q3"], "--weights"), (["--kv", "f8"], "--kv")]:
        r = run("generate", *stories, *flags)
        check(f"invalid {' '.join(flags)}: clear error", r.returncode != 0 and needle in r.stderr and
              "Traceback" not in r.stderr and r.returncode < 128, r.stderr.strip()[-200:])
    # The closing line names the threads it computed with: the count asked for, or without -t the
    # default (EAQ_THREADS, else every hardware thread), never the flag's unset 0.
    for flags, env_threads, want in [(["-t", "2"], None, 2), ([], "3", 3),
                                     ([], None, int(os.environ.get("EAQ_THREADS") or os.cpu_count() or 1))]:
        env = dict(os.environ)
        if env_threads:
            env["EAQ_THREADS"] = env_threads
        r = subprocess.run([EAQ, "generate", *stories, "-n", "4", *flags], capture_output=True, text=True, timeout=600,
                           env=env)
        check(f"generate {' '.join(flags) or 'without -t'}{', EAQ_THREADS=' + env_threads if env_threads else ''} "
              f"names its {want} threads", r.returncode == 0 and f", {want} threads" in r.stderr,
              r.stderr.strip()[-200:])
    # The plain score table: a header, then one row a continuation (log-likelihood, greedy, tokens, text).
    r = run("score", os.path.join(STORIES, "stories260K.bin"), "--tokenizer", os.path.join(STORIES, "tok512.bin"),
            "--context", "Once upon a time", "--continuation", " there was", "--continuation", " a cat")
    lines = r.stdout.splitlines()
    check("score prints a header and a row a continuation",
          r.returncode == 0 and len(lines) == 3 and lines[0].split() == ["log-lik", "greedy", "tokens", "continuation"]
          and lines[1].endswith(" there was") and lines[2].endswith(" a cat") and float(lines[1].split()[0]) < 0,
          r.stdout[-300:] + r.stderr.strip()[-200:])
    r = run("generate", "/nonexistent/model.gguf", "-p", "Hi")
    check("missing model: error names the path", r.returncode == 1 and "/nonexistent/model.gguf" in r.stderr,
          r.stderr.strip()[-200:])

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
