#!/usr/bin/env python3
"""eaq's CPU engine against llama.cpp (llama-cpp-python) on the embedded SmolLM2 model (issue 4).

Both engines score the same 512 token ids of real text (GSM8K questions and answers) from the same
GGUF file; per position: KL(P_llama.cpp || P_eaq) (llama.cpp's --kl-divergence convention) and
whether the top-1 tokens agree. Issue 4's bar: mean KL < 1e-3 and top-1 >= 99%.

What is asserted, and why not on the Q4_1 file itself: llama.cpp multiplies Q4_1 weights by
activations quantized to 8 bits per 32-value block (Q8_1; Q8_0 for the Q8_0 output matrix), eaq by
default multiplies the same weights by f32 activations (it then equals transformers fp32 on the
dequantized weights, KL ~1e-11). On this 135M model that 8-bit activation noise alone puts
llama.cpp at mean KL ~2.5e-3 / top-1 ~97% from both (tools/compare_engine_vs_llama_cpp.py). eaq's
`--activations q8` quantizes activations per row as ggml's reference code does; that brings the
first position to KL 4.5e-4 from llama.cpp (f32 activations: 6.5e-3), not to zero, and the mean
over all positions does not improve (~3e-3). Neither does llama.cpp against itself: this test prints
its batched against its token-by-token evaluation of the Q4_1 file (measured 2026-12-05, 512
positions: mean KL 2.8e-3, top-1 97.1%, identical up to position 16) — it misses the bar too. The
reason: with 8-bit activations the result is chaotic in f32 rounding. tools/q8_activation_sensitivity.py,
a numpy model of llama.cpp's Q4_1 x Q8_1 forward, multiplies every matvec and norm output by
(1 + 3e-8·N(0,1)), less than one f32 ulp, and single positions move by KL up to 1.8e-3 (rounding
flips in 8-bit blocks that hold an outlier): only a bit-identical copy of one llama.cpp build's
kernels could meet the bar on this file. tools/ggml_numerics_model.py copies llama.cpp's numerics
over the whole prompt (Q8_1 activations, f16 K/V, query and softmax weights): 3.0e-3 from
llama.cpp over 512 positions, no closer than f32 (2.4e-3; measured 2026-12-06). So the
bar is asserted where llama.cpp computes in floating point: the same model's weights dequantized by
`eaq quantize` into an F32 and an F16 GGUF, with llama.cpp's KV cache in f32 and flash attention
off. The Q4_1 figures (eaq default and --activations q8) are printed beside them, not asserted.

Exits 77 (skipped) if llama_cpp / numpy / the model are missing or the llama.cpp build crashes.
Env: EAQ_BIN, EAQ_ROOT, EAQ_SHARED.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import llama_cpp
except ImportError as e:
    print(f"SKIP: {e}; install with scripts/setup.sh --references")
    sys.exit(77)

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
N_POSITIONS = 512
MAX_MEAN_KL = 1e-3
MIN_TOP1 = 0.99

# argv: ids file, "batch" or "single" (one token per eval: an earlier -march=native build of
# llama-cpp-python crashed in batched evaluation on this VM), then triples model, output .npy,
# KV type (f16 | f32). One child process for all models: the import and start-up cost is paid once.
LLAMA_SCRIPT = """
import sys, numpy as np, llama_cpp
ids = [int(t) for t in open(sys.argv[1]).read().split()]
batch = len(ids) if sys.argv[2] == "batch" else 1
for model, out, kv in zip(sys.argv[3::3], sys.argv[4::3], sys.argv[5::3]):
    kv_types = {"f16": {}, "f32": {"type_k": 0, "type_v": 0}}[kv]  # 0 = GGML_TYPE_F32
    llm = llama_cpp.Llama(model_path=model, n_ctx=len(ids) + 8, n_batch=batch, n_ubatch=batch,
                          logits_all=True, n_threads=2, flash_attn=False, verbose=False, **kv_types)
    if batch > 1:
        llm.eval(ids)
    else:
        for t in ids:
            llm.eval([t])
    np.save(out, np.array(llm.scores[: len(ids)], dtype=np.float64))
    del llm
"""


def real_text():
    parts = []
    with open(os.path.join(SHARED, "datasets", "gsm8k", "test.jsonl")) as f:
        for line in f:
            item = json.loads(line)
            parts.append(item["question"] + "\n" + item["answer"] + "\n\n")
            if sum(len(p) for p in parts) > 5000:
                break
    return "".join(parts)


def llama_cpp_logits(tmp, ids_path, runs):
    """runs: (model, KV type) pairs; returns their logits in order, or None if llama.cpp failed."""
    outs = [os.path.join(tmp, f"llama_{i}.npy") for i in range(len(runs))]
    args = [a for (model, kv), out in zip(runs, outs) for a in (model, out, kv)]
    for mode in ("batch", "single"):
        r = subprocess.run([sys.executable, "-c", LLAMA_SCRIPT, ids_path, mode, *args],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return [np.load(out) for out in outs]
        print(f"llama-cpp-python {mode} eval failed (exit {r.returncode}): {r.stderr[-300:]}")
    return None


def eaq_logits(tmp, ids, model, extra=()):
    out = os.path.join(tmp, f"eaq_{os.path.basename(model)}_{len(extra)}.f32")
    r = subprocess.run([EAQ, "logits", model, "-t", "2", "--kv", "f32", "-c", str(len(ids) + 8), *extra,
                        "--ids", *map(str, ids), "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: eaq logits on {model}: {r.stderr}")
    vocab = json.loads(r.stdout)["vocab_size"]
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), vocab).astype(np.float64)


def agreement(ref, other):
    def log_softmax(x):
        x = x - x.max(axis=1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    lp_ref, lp_other = log_softmax(ref), log_softmax(other)
    kl = (np.exp(lp_ref) * (lp_ref - lp_other)).sum(axis=1)
    top1 = (ref.argmax(axis=1) == other.argmax(axis=1)).mean()
    return kl, top1, np.abs(ref - other).max()


def line(label, ref, other):
    kl, top1, dmax = agreement(ref, other)
    print(f"  {label:<62} mean KL {kl.mean():.3e}  max KL {kl.max():.3e}  top-1 {100 * top1:6.2f}%  "
          f"max |dlogit| {dmax:.4f}")
    return kl.mean(), top1


def main():
    if not os.path.exists(MODEL):
        print(f"SKIP: {MODEL} missing (scripts/setup.sh fetches it)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        text_path, ids_path = os.path.join(tmp, "text.txt"), os.path.join(tmp, "ids.txt")
        with open(text_path, "w") as f:
            f.write(real_text())
        r = subprocess.run([EAQ, "tokenize", "--model", MODEL, "--ids", "--file", text_path],
                           capture_output=True, text=True, check=True)
        ids = [int(t) for t in r.stdout.split()][:N_POSITIONS]
        if len(ids) < N_POSITIONS:
            raise SystemExit(f"FAIL: only {len(ids)} tokens of text, need {N_POSITIONS}")
        with open(ids_path, "w") as f:
            f.write(" ".join(map(str, ids)))

        print(f"{len(ids)} positions of GSM8K text; llama-cpp-python {llama_cpp.__version__}, "
              f"flash attention off; eaq KV cache f32; KL(P_llama.cpp || P_eaq)")
        schemes = ("f32", "fp16")
        models = {scheme: os.path.join(tmp, f"smollm2-{scheme}.gguf") for scheme in schemes}
        for scheme, model in models.items():
            subprocess.run([EAQ, "quantize", MODEL, "--scheme", scheme, "-o", model], check=True,
                           capture_output=True)
        refs = llama_cpp_logits(tmp, ids_path, [(models[s], "f32") for s in schemes] + [(MODEL, "f32")])
        if refs is None:
            print("SKIP: this llama-cpp-python build cannot evaluate the model; rebuild it portable: "
                  "CMAKE_ARGS='-DGGML_NATIVE=OFF' pip install --force-reinstall llama-cpp-python")
            return 77
        failures = 0
        print(f"asserted (bar: mean KL < {MAX_MEAN_KL:g}, top-1 >= {100 * MIN_TOP1:g}%), the Q4_1 model's weights "
              "dequantized by eaq quantize, llama.cpp KV f32:")
        for scheme, ref in zip(schemes, refs):
            mean_kl, top1 = line(f"{scheme} GGUF: eaq vs llama.cpp", ref, eaq_logits(tmp, ids, models[scheme]))
            if not (mean_kl < MAX_MEAN_KL and top1 >= MIN_TOP1):
                failures += 1
                print(f"  FAIL: {scheme} GGUF misses the bar")
        print("printed, not asserted: the Q4_1 file itself (llama.cpp: Q4_1 x Q8_1 activations, KV f32):")
        single = subprocess.run([sys.executable, "-c", LLAMA_SCRIPT, ids_path, "single", MODEL,
                                 os.path.join(tmp, "llama_single.npy"), "f32"], capture_output=True, text=True)
        if single.returncode == 0:
            line("Q4_1 GGUF: llama.cpp batched vs llama.cpp token by token", refs[-1],
                 np.load(os.path.join(tmp, "llama_single.npy")))
        line("Q4_1 GGUF: eaq default (f32 activations) vs llama.cpp", refs[-1], eaq_logits(tmp, ids, MODEL))
        line("Q4_1 GGUF: eaq --weights native --activations q8 vs llama.cpp", refs[-1],
             eaq_logits(tmp, ids, MODEL, ("--weights", "native", "--activations", "q8")))
    print("PASS" if failures == 0 else "FAIL")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
