#!/usr/bin/env python3
"""(Not a ctest yet: issue 4 acceptance is not met — last run: mean KL 2.37e-3, top-1 97.83%.)
eaq's CPU engine against llama.cpp (llama-cpp-python, PyPI) on the embedded SmolLM2 GGUF.

Both run the same GGUF on the same token ids (eaq's tokenization of real text, >= 512 positions).
For every position: KL(P_llama.cpp || P_eaq) (llama.cpp's --kl-divergence convention: the
reference distribution first) and whether the top-1 tokens agree. Acceptance (issue 4): top-1
agreement >= 99% and mean KL < 1e-3.

Note: llama.cpp computes Q4_1 x Q8_1 (activations quantized to 8 bits) while eaq dequantizes the
weights to f32 and keeps activations in f32, so small differences are expected and measured here.
Exits 77 (skipped) if llama_cpp or numpy is missing. Env: EAQ_BIN, EAQ_ROOT, EAQ_SHARED.
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
N_POSITIONS = 600


def real_text():
    # Real English text: GSM8K test questions and worked answers (../shared/datasets).
    parts = []
    with open(os.path.join(SHARED, "datasets", "gsm8k", "test.jsonl")) as f:
        for line in f:
            item = json.loads(line)
            parts.append(item["question"] + "\n" + item["answer"] + "\n\n")
            if sum(len(p) for p in parts) > 6000:
                break
    return "".join(parts)


LLAMA_SCRIPT = """
import sys, numpy as np, llama_cpp
ids = [int(t) for t in open(sys.argv[1]).read().split()]
# One token per llama_decode: the batched path of the llama-cpp-python build here crashes on this VM.
llm = llama_cpp.Llama(model_path=sys.argv[2], n_ctx=len(ids) + 8, n_batch=1, n_ubatch=1,
                      logits_all=True, n_threads=2, verbose=False)
llm.eval(ids)
np.save(sys.argv[3], np.array(llm.scores[: len(ids)], dtype=np.float64))
"""


def llama_cpp_logits(ids):
    # In a child process: some llama-cpp-python builds (-march=native with AMX on VMs) crash;
    # that is the reference's failure, reported as a skip, never a crash of this test.
    with tempfile.TemporaryDirectory() as tmp:
        ids_path, out_path = os.path.join(tmp, "ids.txt"), os.path.join(tmp, "ref.npy")
        with open(ids_path, "w") as f:
            f.write(" ".join(map(str, ids)))
        r = subprocess.run([sys.executable, "-c", LLAMA_SCRIPT, ids_path, MODEL, out_path], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"SKIP: llama-cpp-python {llama_cpp.__version__} failed (exit {r.returncode}): {r.stderr[-300:]}\n"
                  "Rebuild it portable: CMAKE_ARGS='-DGGML_NATIVE=OFF' pip install --force-reinstall llama-cpp-python")
            return None
        return np.load(out_path)


def main():
    if not os.path.exists(MODEL):
        print(f"SKIP: {MODEL} missing (scripts/fetch_models.sh)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        text_path = os.path.join(tmp, "text.txt")
        with open(text_path, "w") as f:
            f.write(real_text())
        out_path = os.path.join(tmp, "eaq.f32")
        # First get eaq's token ids for the text, then cut to N_POSITIONS and run both on them.
        r = subprocess.run([EAQ, "tokenize", "--model", MODEL, "--ids", "--file", text_path],
                           capture_output=True, text=True, check=True)
        ids = [int(t) for t in r.stdout.split()][:N_POSITIONS]
        assert len(ids) >= 512, f"only {len(ids)} tokens of text"
        r = subprocess.run([EAQ, "logits", MODEL, "-t", "2", "-c", str(len(ids) + 8), "--ids", *map(str, ids),
                            "-o", out_path], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr)
            return 1
        vocab = json.loads(r.stdout)["vocab_size"]
        eaq_logits = np.fromfile(out_path, dtype=np.float32).reshape(len(ids), vocab)

    ref_logits = llama_cpp_logits(ids)
    if ref_logits is None:
        return 77

    def log_softmax(x):
        x = x - x.max(axis=1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))

    lp_ref = log_softmax(ref_logits)
    lp_eaq = log_softmax(eaq_logits.astype(np.float64))
    kl = (np.exp(lp_ref) * (lp_ref - lp_eaq)).sum(axis=1)
    top1 = (ref_logits.argmax(axis=1) == eaq_logits.argmax(axis=1)).mean()
    print(f"positions {len(ids)}  llama-cpp-python {llama_cpp.__version__}")
    print(f"mean KL {kl.mean():.3e}  p99 KL {np.percentile(kl, 99):.3e}  max KL {kl.max():.3e}")
    print(f"top-1 agreement {100 * top1:.2f}%  max |dlogit| {np.abs(ref_logits - eaq_logits).max():.3f}")
    ok = top1 >= 0.99 and kl.mean() < 1e-3
    print("PASS" if ok else "FAIL: need top-1 >= 99% and mean KL < 1e-3")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
