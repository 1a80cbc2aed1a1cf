#!/usr/bin/env python3
"""How close can any engine get to llama.cpp on the embedded SmolLM2 Q4_1 GGUF (issue 4)?

A numpy forward pass of the whole prompt that copies the numerics of llama.cpp's CPU backend
(batched prompt, flash attention off, KV cache f16), step by step:
  - every Q4_1 matmul multiplies by activations quantized to Q8_1 blocks of 32 (d = amax / 127,
    q = round-half-even(x / d), d and s = d * sum(q) stored as f16), one integer dot a block,
    combined as d_w * d_a * sumi + m_w * s_a; the tied Q8_0 LM head by Q8_0 activations;
  - RMSNorm with the sum of squares in double, RoPE on adjacent pairs (GGUF's permuted q/k rows);
  - K and V stored as f16; the query rounded to f16 for K·q and the softmax weights rounded to f16
    for V·p (ggml converts src1 to the f16 weights' vec_dot type);
and compares its logits with llama-cpp-python's on the same token ids (mean KL, top-1), beside an
f32 forward of the same dequantized weights (what eaq computes). If the copy lands within the bar
(KL < 1e-3, top-1 >= 99%) an engine can meet it by computing as llama.cpp does; if not, only
llama.cpp's own kernels, in their own order, can.

Measured 2026-12-06 (llama-cpp-python 0.3.36 built from PyPI's sdist here, numpy 2.4, 512
positions of GSM8K text tokenized by llama.cpp, 29 s):
  llama.cpp vs ggml numerics (numpy)   mean KL 3.0e-3, max 3.0e-2, top-1 97.5%
  llama.cpp vs f32 (numpy)             mean KL 2.4e-3, max 3.9e-2, top-1 97.7%
  ggml numerics vs f32                 mean KL 2.6e-3, max 4.3e-2, top-1 97.5%
Copying llama.cpp's 8-bit activations and f16 attention operands does not bring a computation
closer to llama.cpp than plain f32 is: the copy differs from llama.cpp only in summation order and
the like, and that alone moves the 8-bit-activation logits as far as the 8-bit activations do.

Usage: tools/ggml_numerics_model.py [N_POSITIONS]   (needs numpy, gguf, llama-cpp-python)
Env: EAQ_ROOT, EAQ_SHARED.
"""
import os
import sys

import gguf
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_engine_vs_llama_cpp import compare, real_text  # noqa: E402  (the same text and measures)

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
F32 = np.float32


def f16(x):
    return np.asarray(x, F32).astype(np.float16).astype(F32)


class Weights:
    """The GGUF's tensors: F32 vectors, and Q4_1 / Q8_0 matrices as (d, m, q) per block of 32."""

    def __init__(self, path):
        reader = gguf.GGUFReader(path)
        self.fields = reader.fields
        self.vectors, self.blocks = {}, {}
        for t in reader.tensors:
            raw, kind = np.asarray(t.data), t.tensor_type.name
            if kind == "F32":
                self.vectors[t.name] = raw.astype(F32).reshape(-1)
                continue
            rows, cols = int(t.shape[1]), int(t.shape[0])
            size = {"Q4_1": 20, "Q8_0": 34}[kind]
            b = raw.view(np.uint8).reshape(rows, cols // 32, size)
            d = b[..., 0:2].copy().view(np.float16)[..., 0].astype(F32)
            if kind == "Q4_1":
                m = b[..., 2:4].copy().view(np.float16)[..., 0].astype(F32)
                q = np.concatenate([b[..., 4:] & 15, b[..., 4:] >> 4], axis=-1).astype(F32)
            else:
                m, q = None, b[..., 2:].copy().view(np.int8).astype(F32)
            self.blocks[t.name] = (d, m, q)

    def field(self, name):
        f = self.fields[name]
        return f.parts[f.data[0]][0]

    def dequantized(self, name):
        d, m, q = self.blocks[name]
        w = d[..., None] * q + (m[..., None] if m is not None else 0)
        return w.reshape(w.shape[0], -1).astype(F32)


def quantize_q8(x, with_sum):
    """ggml's quantize_row_q8_1 (with_sum) / q8_0: per block of 32, d = amax / 127, q = rint(x / d)."""
    xb = x.reshape(x.shape[0], -1, 32)
    amax = np.abs(xb).max(axis=2)
    d = (amax / F32(127)).astype(F32)
    inv = np.where(d != 0, F32(1) / np.where(d != 0, d, 1), 0).astype(F32)
    q = np.rint(xb * inv[..., None]).astype(F32)
    s = f16(d * q.sum(axis=2)) if with_sum else None
    return f16(d), q, s


class Forward:
    def __init__(self, w, ggml):
        self.w, self.ggml = w, ggml
        self.n_layers = int(w.field("llama.block_count"))
        self.n_heads = int(w.field("llama.attention.head_count"))
        self.n_kv = int(w.field("llama.attention.head_count_kv"))
        self.eps = F32(w.field("llama.attention.layer_norm_rms_epsilon"))
        self.theta = float(w.field("llama.rope.freq_base"))
        self.dense = {} if ggml else {n: w.dequantized(n) for n in w.blocks}

    def matmul(self, name, x):
        if not self.ggml:
            return (x.astype(np.float64) @ self.dense[name].T.astype(np.float64)).astype(F32)
        d_w, m_w, q_w = self.w.blocks[name]
        d_a, q_a, s_a = quantize_q8(x, m_w is not None)
        out = np.zeros((x.shape[0], q_w.shape[0]), F32)
        for b in range(q_w.shape[1]):  # one integer dot a block (exact in f32: |sum| < 2^24)
            sumi = q_a[:, b, :] @ q_w[:, b, :].T
            out += (d_a[:, b, None] * d_w[None, :, b]) * sumi
            if m_w is not None:
                out += m_w[None, :, b] * s_a[:, b, None]
        return out

    def rms_norm(self, x, name):
        ms = (x.astype(np.float64) ** 2).mean(axis=1)
        scale = (F32(1) / np.sqrt((ms + float(self.eps)).astype(F32))).astype(F32)
        return (x * scale[:, None]).astype(F32) * self.w.vectors[name]

    def rope(self, x, positions):  # x [T, heads, dim]; adjacent pairs (GGUF's permuted q/k rows)
        dim = x.shape[2]
        freqs = (self.theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim))
        angle = positions[:, None].astype(np.float64) * freqs[None, :]
        cos, sin = np.cos(angle).astype(F32)[:, None, :], np.sin(angle).astype(F32)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def attention(self, q, k, v):  # [T, heads, dim], causal, GQA
        t, heads, dim = q.shape
        group = heads // k.shape[1]
        if self.ggml:
            q, k, v = f16(q), f16(k), f16(v)
        out = np.empty_like(q)
        mask = np.triu(np.full((t, t), -np.inf, F32), 1)
        for h in range(heads):
            s = (q[:, h, :] @ k[:, h // group, :].T) * F32(1 / np.sqrt(dim)) + mask
            p = np.exp(s - s.max(axis=1, keepdims=True))
            p = (p / p.sum(axis=1, keepdims=True)).astype(F32)
            if self.ggml:
                p = f16(p)
            out[:, h, :] = p @ v[:, h // group, :]
        return out.reshape(t, heads * dim)

    def logits(self, ids):
        t = len(ids)
        d, _, q = self.w.blocks["token_embd.weight"]
        x = (d[ids][..., None] * q[ids]).reshape(t, -1).astype(F32)
        pos = np.arange(t)
        for layer in range(self.n_layers):
            p = f"blk.{layer}."
            h = self.rms_norm(x, p + "attn_norm.weight")
            qh = self.matmul(p + "attn_q.weight", h).reshape(t, self.n_heads, -1)
            kh = self.matmul(p + "attn_k.weight", h).reshape(t, self.n_kv, -1)
            vh = self.matmul(p + "attn_v.weight", h).reshape(t, self.n_kv, -1)
            a = self.attention(self.rope(qh, pos), self.rope(kh, pos), vh)
            x = x + self.matmul(p + "attn_output.weight", a)
            h = self.rms_norm(x, p + "ffn_norm.weight")
            g, u = self.matmul(p + "ffn_gate.weight", h), self.matmul(p + "ffn_up.weight", h)
            x = x + self.matmul(p + "ffn_down.weight", (g / (F32(1) + np.exp(-g)) * u).astype(F32))
        return self.matmul("token_embd.weight", self.rms_norm(x, "output_norm.weight")).astype(np.float64)


def main():
    try:
        import llama_cpp
    except ImportError:
        raise SystemExit("ggml_numerics_model.py: llama_cpp is not installed: scripts/setup.sh --references installs it")
    if not os.path.exists(MODEL):
        raise SystemExit(f"ggml_numerics_model.py: {MODEL} is missing: scripts/setup.sh fetches it")
    if len(sys.argv) > 1 and not (sys.argv[1].isdigit() and int(sys.argv[1]) > 0):
        raise SystemExit(f"ggml_numerics_model.py: N_POSITIONS '{sys.argv[1]}' is not a positive count (default 512)")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    text = real_text()
    llm = llama_cpp.Llama(model_path=MODEL, n_ctx=n + 8, n_batch=n, n_ubatch=n, logits_all=True, n_threads=2,
                          flash_attn=False, verbose=False)
    ids = llm.tokenize(text.encode(), add_bos=False)[:n]
    llm.eval(ids)
    ref = np.array(llm.scores[:n], dtype=np.float64)
    w = Weights(MODEL)
    ggml = Forward(w, ggml=True).logits(np.array(ids))
    f32 = Forward(w, ggml=False).logits(np.array(ids))
    print(f"{n} positions of GSM8K text, llama-cpp-python {llama_cpp.__version__}; KL(P_left || P_right)")
    compare("llama.cpp", ref, "ggml numerics (numpy)", ggml)
    compare("llama.cpp", ref, "f32 (numpy)", f32)
    compare("ggml numerics (numpy)", ggml, "f32 (numpy)", f32)


if __name__ == "__main__":
    main()
