#!/usr/bin/env python3
"""How sensitive 8-bit-activation (W4A8) inference is to f32 rounding, on the embedded SmolLM2 Q4_1.

Why eaq cannot match llama.cpp on the Q4_1 file to KL < 1e-3 (issue 4; the figures are cited in
tests/reference/test_engine_vs_llama_cpp.py): llama.cpp multiplies Q4_1 weights by activations
quantized to Q8_1 blocks of 32. This script is a numpy model of that forward pass at position 0
(where attention returns V unchanged): RMSNorm, each matvec as ggml's integer block dot
(d_w·d_a·Σ q_w·q_a + m_w·s_a, with d_a and s_a rounded to f16), SwiGLU, the Q8_0 tied lm_head. It
then multiplies every matvec output and every norm output by (1 + eps·N(0,1)), eps below one f32
ulp, as a different summation order would, and prints the KL between the clean and the perturbed
logits per token. Nonzero KL at eps = 3e-8 means the result depends on rounding below f32
precision: only a bit-identical copy of one llama.cpp build's kernels can reproduce it.

Measured 2026-12-05 (numpy 2, the first 6 tokens of the GSM8K text as single-token prompts):
eps 3e-8 → KL 9e-14, 3.0e-4, 1.8e-3, 2e-13, 2e-13, 1e-13; eps 1e-7 → up to 2.4e-3.
Usage: tools/q8_activation_sensitivity.py [TOKEN_ID ...]   Env: EAQ_ROOT
"""
import os
import sys

import gguf
import numpy as np

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_TOKENS = [14247, 305, 417, 99, 26077, 2060]  # eaq's tokenization of the first GSM8K question
N_LAYERS, N_HEADS, N_KV_HEADS, HEAD_DIM, RMS_EPS = 30, 9, 3, 64, 1e-5


def f16(x):
    return np.asarray(x, np.float32).astype(np.float16).astype(np.float64)


def load():
    reader = gguf.GGUFReader(MODEL)
    blocks, vectors = {}, {}
    for t in reader.tensors:
        raw, rows, cols = np.asarray(t.data), int(t.shape[1]) if len(t.shape) > 1 else 1, int(t.shape[0])
        kind = t.tensor_type.name
        if kind == "F32":
            vectors[t.name] = raw.astype(np.float64)
            continue
        size = {"Q4_1": 20, "Q8_0": 34}[kind]
        b = raw.view(np.uint8).reshape(rows, cols // 32, size)
        d = b[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float64)
        if kind == "Q4_1":
            m = b[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
            q = np.concatenate([b[..., 4:] & 15, b[..., 4:] >> 4], axis=-1).astype(np.float64)
        else:
            m, q = None, b[..., 2:].copy().view(np.int8).astype(np.float64)
        blocks[t.name] = (d, m, q)
    return blocks, vectors


def quantize_activations(x):
    """ggml's x86 quantize_row_q8_1: d = amax/127, q = round-half-even(x·127/amax), s = f16(d·Σq)."""
    xb = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(xb).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.where(amax != 0, np.float32(127) / np.where(amax != 0, amax, 1), 0).astype(np.float32)
    q = np.rint(xb * inv[:, None]).astype(np.float64)
    return f16(d), q, f16(d * q.sum(axis=1))


class Model:
    def __init__(self):
        self.blocks, self.vectors = load()
        self.eps, self.rng = 0.0, np.random.default_rng(1)

    def jitter(self, y):
        return y * (1 + self.eps * self.rng.standard_normal(y.shape)) if self.eps else y

    def matvec(self, name, x):
        d_w, m_w, q_w = self.blocks[name]
        d_a, q_a, s_a = quantize_activations(x)
        out = d_w * d_a[None, :] * np.einsum("rbj,bj->rb", q_w, q_a)
        if m_w is not None:
            out = out + m_w * s_a[None, :]
        return self.jitter(out.sum(axis=1))

    def rms_norm(self, x, name):
        x32 = x.astype(np.float32)
        scale = np.float32(1.0) / np.sqrt(np.float32((x32.astype(np.float64) ** 2).mean() + RMS_EPS))
        y = (x32 * scale).astype(np.float32) * self.vectors[name].astype(np.float32)
        return self.jitter(y.astype(np.float64)).astype(np.float32)

    def logits_at_position_0(self, token):
        d, _, q = self.blocks["token_embd.weight"]
        x = (d[token][:, None] * q[token]).reshape(-1).astype(np.float32).astype(np.float64)
        group = N_HEADS // N_KV_HEADS
        for layer in range(N_LAYERS):
            p = f"blk.{layer}."
            v = self.matvec(p + "attn_v.weight", self.rms_norm(x, p + "attn_norm.weight"))
            attn = np.concatenate([v[(h // group) * HEAD_DIM:(h // group + 1) * HEAD_DIM] for h in range(N_HEADS)])
            x = x + self.matvec(p + "attn_output.weight", attn.astype(np.float32))
            h = self.rms_norm(x, p + "ffn_norm.weight")
            g, u = self.matvec(p + "ffn_gate.weight", h), self.matvec(p + "ffn_up.weight", h)
            x = x + self.matvec(p + "ffn_down.weight", (g / (1 + np.exp(-g)) * u).astype(np.float32))
        return self.matvec("token_embd.weight", self.rms_norm(x, "output_norm.weight"))


def kl(p, q):
    lp, lq = p - p.max(), q - q.max()
    lp, lq = lp - np.log(np.exp(lp).sum()), lq - np.log(np.exp(lq).sum())
    return float((np.exp(lp) * (lp - lq)).sum())


def main():
    if not os.path.exists(MODEL):
        raise SystemExit(f"{MODEL} missing: scripts/setup.sh fetches it")
    tokens = [int(t) for t in sys.argv[1:]] or DEFAULT_TOKENS
    model = Model()
    clean = [model.logits_at_position_0(t) for t in tokens]
    for eps in (3e-8, 1e-7, 3e-7):
        model.eps = eps
        kls = [kl(c, model.logits_at_position_0(t)) for c, t in zip(clean, tokens)]
        print(f"eps {eps:.0e}: KL(clean || perturbed) per token: " + ", ".join(f"{k:.1e}" for k in kls))


if __name__ == "__main__":
    main()
