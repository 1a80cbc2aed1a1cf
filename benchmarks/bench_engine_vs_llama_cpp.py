#!/usr/bin/env python3
"""Engine benchmark beside llama.cpp, in one run (issues 4 and 5): eaq's prefill/decode tok/s per
weight precision / scheme and thread count against the STREAM-triad bound measured in the same run
(build/bench_engine_cpu), and llama-cpp-python on GGUF files with the same threads.

  python3 benchmarks/bench_engine_vs_llama_cpp.py [--model M] [--threads 1,2] [--weights f32,bf16]
      [-p 128] [-n 64] [--llama-schemes native,q8_0,q4_0]

Prints the 1-minute load average around each round: on a shared machine, figures of rounds taken
under load are not the engines' own.

--llama-schemes: llama.cpp runs the model as stored (native) and as eaq re-quantizes it (`eaq quantize
--scheme S`, byte-identical to the gguf package's quantizer for q8_0/q4_0/q4_1). llama.cpp runs in a
child process (some builds crash on VMs; that becomes a printed note, not a failed benchmark).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LLAMA_SCRIPT = r"""
import json, sys, time, llama_cpp
model, threads, n_prompt, n_decode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
batch = sys.argv[5] == "batch"  # "single": prompt one token per eval (see --llama-single-token)
# llama-cpp-python sizes its scores buffer by n_batch unless logits_all: n_batch = n_ctx keeps
# scores[n_tokens - 1] inside it while decoding (single-token mode uses logits_all instead).
n_ctx = n_prompt + n_decode + 8
llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx if batch else 1, n_threads=threads,
                      n_threads_batch=threads, logits_all=not batch, verbose=False)
vocab = llm.n_vocab()
prompt = [(i * 7919 + 1) % vocab for i in range(n_prompt)]
t0 = time.perf_counter()
if batch:
    llm.eval(prompt[:8])
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
else:
    for t in prompt:
        llm.eval([t])
prefill_s = time.perf_counter() - t0
token = int(llm.scores[llm.n_tokens - 1].argmax())
t0 = time.perf_counter()
for _ in range(n_decode):
    llm.eval([token])
    token = int(llm.scores[llm.n_tokens - 1].argmax())
decode_s = time.perf_counter() - t0
print(json.dumps({"engine": f"llama-cpp-python {llama_cpp.__version__}", "threads": threads,
                  "prefill_tokens_per_s": n_prompt / prefill_s if batch else float("nan"),
                  "decode_tokens_per_s": n_decode / decode_s}))
"""


def llama_cpp_row(model, label, threads, n_prompt, n_decode, single_token):
    r = subprocess.run([sys.executable, "-c", LLAMA_SCRIPT, model, str(threads), str(n_prompt), str(n_decode),
                        "single" if single_token else "batch"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"(llama-cpp-python failed on {label}: exit {r.returncode} {r.stderr[-200:]})", file=sys.stderr)
        return None
    row = json.loads(r.stdout.strip().splitlines()[-1])
    row["weights"] = label
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--bench-bin", default=os.path.join(ROOT, "build", "bench_engine_cpu"))
    ap.add_argument("--eaq-bin", default=None, help="the eaq binary (default: beside --bench-bin)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--weights", default="f32,bf16")
    ap.add_argument("--llama-schemes", default="native")
    ap.add_argument("--llama-single-token", action="store_true",
                    help="llama.cpp evaluates the prompt one token per call (for builds whose batched eval crashes); "
                         "its prefill rate is then not reported, decode is unaffected")
    ap.add_argument("--repeat", type=int, default=1, help="run the whole eaq + llama.cpp set this many times")
    ap.add_argument("-p", type=int, default=128)
    ap.add_argument("-n", type=int, default=64)
    a = ap.parse_args()
    eaq_bin = a.eaq_bin or os.path.join(os.path.dirname(a.bench_bin), "eaq")
    try:
        import llama_cpp  # noqa: F401
        have_llama = True
    except ImportError:
        have_llama = False
        print("(llama-cpp-python not installed: scripts/setup.sh --references)", file=sys.stderr)
    rows = []
    round_load = {}  # round -> 1-minute load average before and after it (the machine may be shared)
    with tempfile.TemporaryDirectory() as tmp:
        llama_models = []
        for scheme in [s for s in a.llama_schemes.split(",") if s] if have_llama else []:
            path = a.model
            if scheme != "native":
                path = os.path.join(tmp, f"{scheme}.gguf")
                subprocess.run([eaq_bin, "quantize", a.model, "--scheme", scheme, "-o", path], check=True,
                               capture_output=True)
            llama_models.append((scheme, path))
        # Rounds alternate eaq and llama.cpp so that load from other processes hits both alike.
        for round_index in range(a.repeat):
            load_before = os.getloadavg()[0]
            r = subprocess.run([a.bench_bin, a.model, "--threads", a.threads, "--weights", a.weights, "-p", str(a.p),
                                "-n", str(a.n)], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(r.stderr)
            eaq_rows = [dict(json.loads(line), round=round_index) for line in r.stdout.splitlines() if line.strip()]
            rows += eaq_rows
            for scheme, path in llama_models:
                for t in a.threads.split(","):
                    row = llama_cpp_row(path, f"{scheme} (gguf)", int(t), a.p, a.n, a.llama_single_token)
                    if row:
                        # llama.cpp reads the same bytes per token as eaq's native run of the same
                        # file; the triad is the one eaq measured with the same threads this round.
                        twin = next((e for e in eaq_rows if e["weights"] == "native" and e["threads"] == int(t)), None)
                        if scheme == "native" and twin:
                            bw = twin["decode_bytes_per_token"] * row["decode_tokens_per_s"]
                            row.update(decode_bandwidth_bytes_per_s=bw,
                                       triad_bandwidth_bytes_per_s=twin["triad_bandwidth_bytes_per_s"],
                                       decode_fraction_of_triad=bw / twin["triad_bandwidth_bytes_per_s"])
                        rows.append(dict(row, round=round_index))
            round_load[round_index] = (load_before, os.getloadavg()[0])
    print(f"model {os.path.basename(a.model)}, prompt {a.p} tokens, decode {a.n} tokens, {os.cpu_count()} CPUs; "
          "triad: STREAM triad measured by bench_engine_cpu in the same round with the same threads; "
          "llama.cpp decode GB/s: eaq's bytes per token for the same file (native) x its tok/s")
    for round_index, (before, after) in round_load.items():
        print(f"round {round_index}: 1-minute load average {before:.2f} before, {after:.2f} after")
    print()
    print("| round | engine | weights | threads | prefill tok/s | decode tok/s | decode GB/s | triad GB/s | decode / triad |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        bw = row.get("decode_bandwidth_bytes_per_s")
        triad = row.get("triad_bandwidth_bytes_per_s")
        frac = row.get("decode_fraction_of_triad")
        print(f"| {row['round']} | {row['engine']} | {row['weights']} | {row['threads']} | {row['prefill_tokens_per_s']:.1f} | "
              f"{row['decode_tokens_per_s']:.1f} | {bw / 1e9 if bw else float('nan'):.2f} | "
              f"{triad / 1e9 if triad else float('nan'):.2f} | {frac if frac else float('nan'):.2f} |")

    if a.repeat > 1:
        best = {}
        for row in rows:
            key = (row["engine"], row["weights"], row["threads"])
            best[key] = max(best.get(key, 0.0), row["decode_tokens_per_s"])
        print(f"\nbest decode tok/s over {a.repeat} rounds:\n")
        print("| engine | weights | threads | decode tok/s |\n|---|---|---|---|")
        for (engine, weights, threads), tps in best.items():
            print(f"| {engine} | {weights} | {threads} | {tps:.1f} |")


if __name__ == "__main__":
    main()
