#!/usr/bin/env python3
"""e2e: `eaq synth` writes a random-initialised model that eaq and transformers both load.

- tiny llama, qwen2 (q/k/v biases) and gemma3 (sliding window, q/k norms) configs → HF folders;
- config.json and the safetensors metadata say synthetic; `eaq info` says so;
- the values: matrices ~ N(0, initializer_range²) (sample std within 3%), norms 1 (gemma: 0, its HF
  norm multiplies by 1 + w);
- the bytes do not depend on the thread count;
- when torch + transformers are installed: eaq's logits equal transformers' (fp32) within 1e-4;
- errors: an existing model.safetensors, an unknown --dtype, a tokenizer bigger than the vocab.

Env: EAQ_BIN, EAQ_SHARED.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

EAQ = os.environ.get("EAQ_BIN", "eaq")
ROOT = os.environ.get("EAQ_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
LLAMA2_TOKENIZER = os.path.join(SHARED, "tokenizers", "llama2", "tokenizer.json")
FAILURES = []

CONFIGS = {
    "llama": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
              "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
              "num_hidden_layers": 2, "vocab_size": 32000, "max_position_embeddings": 256,
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
              "initializer_range": 0.02},
    "qwen2": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64,
              "intermediate_size": 160, "num_attention_heads": 4, "num_key_value_heads": 2,
              "num_hidden_layers": 2, "vocab_size": 32000, "max_position_embeddings": 256,
              "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
              "initializer_range": 0.05},
    "gemma3": {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 64,
               "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 1,
               "head_dim": 32, "num_hidden_layers": 3, "vocab_size": 32000, "max_position_embeddings": 256,
               "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
               "sliding_window": 4, "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
               "query_pre_attn_scalar": 32, "hidden_activation": "gelu_pytorch_tanh",
               "initializer_range": 0.02},
}


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def run(*args, ok=True):
    p = subprocess.run([EAQ, *args], capture_output=True, text=True, timeout=300)
    if ok and p.returncode != 0:
        check(False, f"eaq {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    import numpy as np
    from safetensors import safe_open

    try:
        import torch
        import transformers
    except ImportError:
        torch = None
        print("torch/transformers not installed: the logits comparison is skipped")

    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in CONFIGS.items():
            cfg_path = os.path.join(tmp, f"{name}.json")
            with open(cfg_path, "w") as f:
                json.dump(cfg, f)
            out = os.path.join(tmp, name)
            run("synth", "--config", cfg_path, "-o", out, "--seed", "7", "--dtype", "f32", "-t", "2",
                "--tokenizer", LLAMA2_TOKENIZER)
            with open(os.path.join(out, "config.json")) as f:
                written = json.load(f)
            check(written.get("eaq_synthetic") is True, f"{name}: config.json not flagged synthetic")
            info = json.loads(run("info", out, "--json").stdout or "{}")
            check(info.get("synthetic") is True, f"{name}: eaq info --json does not say synthetic")
            check("SYNTHETIC" in run("info", out).stdout, f"{name}: eaq info text does not say SYNTHETIC")

            weights = os.path.join(out, "model.safetensors")
            with safe_open(weights, "np") as st:
                check(st.metadata().get("eaq.synthetic") == "true", f"{name}: safetensors metadata lacks eaq.synthetic")
                for key in st.keys():
                    t = st.get_tensor(key)
                    if t.ndim == 2 and t.size >= 4096:
                        std = float(t.std())
                        rel = abs(std - cfg["initializer_range"]) / cfg["initializer_range"]
                        check(rel < 0.03 and abs(float(t.mean())) < 3 * cfg["initializer_range"] / np.sqrt(t.size) + 1e-4,
                              f"{name}: {key} std {std:.5f} mean {float(t.mean()):.2e}, expected N(0, {cfg['initializer_range']}²)")
                    elif "norm" in key:
                        want = 0.0 if name == "gemma3" else 1.0
                        check(np.all(t == want), f"{name}: {key} should be all {want}")

            # Same bytes with one thread.
            out1 = os.path.join(tmp, name + "-t1")
            run("synth", "--config", cfg_path, "-o", out1, "--seed", "7", "--dtype", "f32", "-t", "1")
            check(sha256(weights) == sha256(os.path.join(out1, "model.safetensors")),
                  f"{name}: the weights depend on the thread count")

            if torch is not None:
                ids = [1, 450, 4996, 17354, 1701, 432, 29871, 13, 2, 100, 31999, 5]
                logits_path = os.path.join(tmp, name + ".f32")
                run("logits", out, "--ids", *map(str, ids), "-o", logits_path, "-t", "2")
                ours = np.fromfile(logits_path, dtype=np.float32).reshape(len(ids), -1)
                model = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
                model.eval()
                with torch.no_grad():
                    ref = model(torch.tensor([ids])).logits[0].numpy()
                diff = float(np.abs(ours - ref).max())
                print(f"{name}: max |Δlogit| eaq vs transformers {diff:.2e} (logit scale {float(np.abs(ref).max()):.3f})")
                check(diff < 1e-4, f"{name}: eaq and transformers disagree on the synthetic model (max |Δ| {diff:.2e})")

        llama_cfg = os.path.join(tmp, "llama.json")
        p = run("synth", "--config", llama_cfg, "-o", os.path.join(tmp, "llama"), ok=False)
        check(p.returncode != 0 and "already exists" in p.stderr, f"existing output not refused: {p.stderr}")
        p = run("synth", "--config", llama_cfg, "-o", os.path.join(tmp, "x"), "--dtype", "q4_0", ok=False)
        check(p.returncode != 0 and "--dtype" in p.stderr, f"bad --dtype not refused clearly: {p.stderr}")
        small = dict(CONFIGS["llama"], vocab_size=512)
        small_path = os.path.join(tmp, "small.json")
        with open(small_path, "w") as f:
            json.dump(small, f)
        p = run("synth", "--config", small_path, "-o", os.path.join(tmp, "y"), "--tokenizer", LLAMA2_TOKENIZER, ok=False)
        check(p.returncode != 0 and "vocab_size" in p.stderr, f"tokenizer larger than the vocab not refused: {p.stderr}")
        check(not os.path.exists(os.path.join(tmp, "y", "model.safetensors")), "weights written despite the bad tokenizer")

    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
