#!/usr/bin/env python3
"""Engine benchmark beside llama.cpp, in one run (issue 4): eaq's prefill/decode tok/s per weight
precision and thread count against the STREAM-triad bound measured in the same run
(build/bench_engine_cpu), and llama-cpp-python on the same GGUF with the same threads.

  python3 benchmarks/bench_engine_vs_llama_cpp.py [--model M] [--threads 1,2] [--weights f32,bf16] [-p 128] [-n 64]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def llama_cpp_row(model, threads, n_prompt, n_decode):
    import llama_cpp
    llm = llama_cpp.Llama(model_path=model, n_ctx=n_prompt + n_decode + 8, n_batch=n_prompt, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
    vocab = llm.n_vocab()
    prompt = [(i * 7919 + 1) % vocab for i in range(n_prompt)]
    llm.eval(prompt[:8])
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    prefill_s = time.perf_counter() - t0
    token = int(llm.scores[llm.n_tokens - 1].argmax())
    t0 = time.perf_counter()
    for _ in range(n_decode):
        llm.eval([token])
        token = int(llm.scores[llm.n_tokens - 1].argmax())
    decode_s = time.perf_counter() - t0
    return {"engine": f"llama-cpp-python {llama_cpp.__version__}", "weights": "native (gguf)", "threads": threads,
            "prefill_tokens_per_s": n_prompt / prefill_s, "decode_tokens_per_s": n_decode / decode_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--bench-bin", default=os.path.join(ROOT, "build", "bench_engine_cpu"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--weights", default="f32,bf16")
    ap.add_argument("-p", type=int, default=128)
    ap.add_argument("-n", type=int, default=64)
    a = ap.parse_args()
    r = subprocess.run([a.bench_bin, a.model, "--threads", a.threads, "--weights", a.weights, "-p", str(a.p),
                        "-n", str(a.n)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    try:
        for t in a.threads.split(","):
            rows.append(llama_cpp_row(a.model, int(t), a.p, a.n))
    except ImportError:
        print("(llama-cpp-python not installed: scripts/setup.sh --references)", file=sys.stderr)
    print(f"model {os.path.basename(a.model)}, prompt {a.p} tokens, decode {a.n} tokens, one run\n")
    print("| engine | weights | threads | prefill tok/s | decode tok/s | decode GB/s | triad GB/s | decode / triad |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        bw = row.get("decode_bandwidth_bytes_per_s")
        triad = row.get("triad_bandwidth_bytes_per_s")
        frac = row.get("decode_fraction_of_triad")
        print(f"| {row['engine']} | {row['weights']} | {row['threads']} | {row['prefill_tokens_per_s']:.1f} | "
              f"{row['decode_tokens_per_s']:.1f} | {bw / 1e9 if bw else float('nan'):.2f} | "
              f"{triad / 1e9 if triad else float('nan'):.2f} | {frac if frac else float('nan'):.2f} |")


if __name__ == "__main__":
    main()
