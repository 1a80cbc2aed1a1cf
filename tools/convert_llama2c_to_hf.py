#!/usr/bin/env python3
"""Converts a llama2.c legacy checkpoint (e.g. stories260K.bin) to a transformers LlamaForCausalLM
and writes the engine's stories260K golden fixture from it.

The fixture (tests/golden/engine/stories260K/) holds the prompt ids of "Once upon a time" as
llama2.c's run.c encodes them with tok512.bin, the HF logits at every prompt position, 64 greedy
tokens from model.generate with their per-step logits and top-2 gaps, and the decoded text. The
converted weights are not committed (the C++ test reads the original .bin from ../shared); pass
--hf-out to keep them. Two independent checks run before anything is written: a NumPy
transcription of run.c's forward pass on the unconverted weights must give the same logits as the
converted HF model (this is what proves the q/k permutation), and run.c's decode of the prompt ids
must give back the prompt text.

Usage: python3 tools/convert_llama2c_to_hf.py [--checkpoint BIN] [--tokenizer BIN] [--out DIR]
       [--hf-out DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_engine_fixtures as fixtures  # noqa: E402  (the shared fixture writer)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
DEFAULT_CHECKPOINT = SHARED / "models" / "stories260K" / "stories260K.bin"
DEFAULT_TOKENIZER = SHARED / "models" / "stories260K" / "tok512.bin"
DEFAULT_OUT = REPO_ROOT / "tests" / "golden" / "engine" / "stories260K"
PROMPT_TEXT = "Once upon a time"
GREEDY_TOKENS = 64
# karpathy/llama2.c test_all.py `expected_stdout`: what `./run stories260K.bin -z tok512.bin
# -t 0.0` prints (greedy from BOS). Greedy from "Once upon a time" reproduces this story, so the
# fixture's text must be a prefix of it: a check against llama2.c itself, not only against HF.
LLAMA2C_EXPECTED_STDOUT = (
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. "
    "She said, \"I want to play with your ball, but I can't find it.\"\n")
HEADER_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len")


# --------------------------------------------------------------------------------------------
# llama2.c legacy checkpoint (the layout of run.c's memory_map_weights)
# --------------------------------------------------------------------------------------------

def read_checkpoint(path: Path) -> tuple[dict, dict]:
    data = path.read_bytes()
    if len(data) < 28:
        raise ValueError(f"{path}: {len(data)} bytes, shorter than the 28-byte llama2.c header")
    header = dict(zip(HEADER_FIELDS, struct.unpack_from("<7i", data, 0)))
    shared_classifier = header["vocab_size"] > 0
    header["vocab_size"] = abs(header["vocab_size"])
    dim, hidden, n_layers = header["dim"], header["hidden_dim"], header["n_layers"]
    n_heads, n_kv_heads, vocab, seq_len = (header["n_heads"], header["n_kv_heads"],
                                           header["vocab_size"], header["seq_len"])
    if min(dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len) <= 0 or dim % n_heads:
        raise ValueError(f"{path}: implausible header {header}")
    head_size = dim // n_heads
    kv_dim = n_kv_heads * head_size
    shapes = [
        ("token_embedding", (vocab, dim)),
        ("rms_att", (n_layers, dim)),
        ("wq", (n_layers, dim, dim)),
        ("wk", (n_layers, kv_dim, dim)),
        ("wv", (n_layers, kv_dim, dim)),
        ("wo", (n_layers, dim, dim)),
        ("rms_ffn", (n_layers, dim)),
        ("w1", (n_layers, hidden, dim)),
        ("w2", (n_layers, dim, hidden)),
        ("w3", (n_layers, hidden, dim)),
        ("rms_final", (dim,)),
        ("freq_cis_real", (seq_len, head_size // 2)),  # unused by run.c (rope is recomputed)
        ("freq_cis_imag", (seq_len, head_size // 2)),
    ]
    if not shared_classifier:
        shapes.append(("wcls", (vocab, dim)))
    n_floats = sum(int(np.prod(s)) for _, s in shapes)
    if len(data) != 28 + 4 * n_floats:
        raise ValueError(f"{path}: {len(data)} bytes, header {header} implies {28 + 4 * n_floats}")
    weights, offset = {}, 28
    for name, shape in shapes:
        count = int(np.prod(shape))
        weights[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(shape)
        offset += 4 * count
    if shared_classifier:
        weights["wcls"] = weights["token_embedding"]
    header["shared_classifier"] = shared_classifier
    return header, weights


def permute_rotary(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Meta's interleaved rope layout (pairs 2i, 2i+1) -> HF rotate_half layout (pairs i, i+d/2);
    the same permutation as transformers' convert_llama_weights_to_hf.py `permute`."""
    dim1, dim2 = w.shape
    return w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def hf_config(header: dict) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=header["vocab_size"], hidden_size=header["dim"],
        intermediate_size=header["hidden_dim"], num_hidden_layers=header["n_layers"],
        num_attention_heads=header["n_heads"], num_key_value_heads=header["n_kv_heads"],
        max_position_embeddings=header["seq_len"],
        rms_norm_eps=1e-5,  # run.c's rmsnorm: ss / size + 1e-5f
        rope_theta=10000.0,  # run.c: 1 / powf(10000, head_dim / head_size)
        rope_scaling=None, tie_word_embeddings=header["shared_classifier"],
        bos_token_id=1, eos_token_id=2)


def to_hf_model(header: dict, weights: dict, permute_qk: bool = True) -> LlamaForCausalLM:
    config = hf_config(header)
    model = LlamaForCausalLM._from_config(config, attn_implementation=fixtures.ATTN_IMPLEMENTATION,
                                          dtype=torch.float32)
    t = {k: torch.from_numpy(np.array(v)) for k, v in weights.items()}
    sd = {"model.embed_tokens.weight": t["token_embedding"], "model.norm.weight": t["rms_final"]}
    for l in range(header["n_layers"]):
        p = f"model.layers.{l}."
        wq, wk = t["wq"][l], t["wk"][l]
        if permute_qk:
            wq, wk = permute_rotary(wq, header["n_heads"]), permute_rotary(wk, header["n_kv_heads"])
        sd[p + "self_attn.q_proj.weight"] = wq
        sd[p + "self_attn.k_proj.weight"] = wk
        sd[p + "self_attn.v_proj.weight"] = t["wv"][l]
        sd[p + "self_attn.o_proj.weight"] = t["wo"][l]
        sd[p + "mlp.gate_proj.weight"] = t["w1"][l]
        sd[p + "mlp.down_proj.weight"] = t["w2"][l]
        sd[p + "mlp.up_proj.weight"] = t["w3"][l]
        sd[p + "input_layernorm.weight"] = t["rms_att"][l]
        sd[p + "post_attention_layernorm.weight"] = t["rms_ffn"][l]
    if not header["shared_classifier"]:
        sd["lm_head.weight"] = t["wcls"]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise RuntimeError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    if header["shared_classifier"]:
        model.tie_weights()
    return model.eval()


def run_c_forward_logits(header: dict, weights: dict, tokens: list[int]) -> np.ndarray:
    """A NumPy transcription of run.c's forward(): token by token with a KV cache, rope on
    adjacent pairs (2i, 2i+1) of the unpermuted weights. Independent of the HF conversion."""
    dim, n_layers = header["dim"], header["n_layers"]
    n_heads, n_kv_heads = header["n_heads"], header["n_kv_heads"]
    head_size = dim // n_heads
    kv_dim = n_kv_heads * head_size
    kv_mul = n_heads // n_kv_heads
    w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}

    def rmsnorm(x, weight):
        return weight * (x / np.sqrt(np.mean(x * x) + np.float32(1e-5)))

    key_cache = np.zeros((n_layers, len(tokens), kv_dim), np.float32)
    value_cache = np.zeros_like(key_cache)
    out = []
    for pos, token in enumerate(tokens):
        x = w["token_embedding"][token].copy()
        pair = np.arange(0, dim, 2)
        freq = 1.0 / np.power(np.float32(10000.0), (pair % head_size) / np.float32(head_size))
        cos, sin = np.cos(pos * freq).astype(np.float32), np.sin(pos * freq).astype(np.float32)
        for l in range(n_layers):
            xb = rmsnorm(x, w["rms_att"][l])
            q, k, v = w["wq"][l] @ xb, w["wk"][l] @ xb, w["wv"][l] @ xb
            for vec, n in ((q, dim), (k, kv_dim)):
                v0, v1 = vec[0:n:2].copy(), vec[1:n:2].copy()
                vec[0:n:2] = v0 * cos[: n // 2] - v1 * sin[: n // 2]
                vec[1:n:2] = v0 * sin[: n // 2] + v1 * cos[: n // 2]
            key_cache[l, pos], value_cache[l, pos] = k, v
            att_out = np.zeros(dim, np.float32)
            for h in range(n_heads):
                kv_h = (h // kv_mul) * head_size
                qh = q[h * head_size:(h + 1) * head_size]
                keys = key_cache[l, :pos + 1, kv_h:kv_h + head_size]
                scores = keys @ qh / np.sqrt(np.float32(head_size))
                scores = np.exp(scores - scores.max())
                scores /= scores.sum()
                att_out[h * head_size:(h + 1) * head_size] = scores @ value_cache[
                    l, :pos + 1, kv_h:kv_h + head_size]
            x = x + w["wo"][l] @ att_out
            xb = rmsnorm(x, w["rms_ffn"][l])
            h1, h3 = w["w1"][l] @ xb, w["w3"][l] @ xb
            x = x + w["w2"][l] @ (h1 / (1.0 + np.exp(-h1)) * h3)
        out.append(w["wcls"] @ rmsnorm(x, w["rms_final"]))
    return np.stack(out)


# --------------------------------------------------------------------------------------------
# llama2.c tokenizer.bin and run.c's encode / decode
# --------------------------------------------------------------------------------------------

def read_tokenizer(path: Path, vocab_size: int) -> tuple[list[bytes], list[float]]:
    data = path.read_bytes()
    (max_token_length,) = struct.unpack_from("<i", data, 0)
    offset, vocab, scores = 4, [], []
    for i in range(vocab_size):
        if offset + 8 > len(data):
            raise ValueError(f"{path}: truncated at token {i} (offset {offset})")
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        if length < 0 or length > max_token_length or offset + length > len(data):
            raise ValueError(f"{path}: token {i} has bad length {length} at offset {offset - 4}")
        vocab.append(data[offset:offset + length])
        scores.append(score)
        offset += length
    return vocab, scores


def run_c_encode(vocab: list[bytes], scores: list[float], text: str, bos: bool = True,
                 eos: bool = False) -> list[int]:
    """A transcription of llama2.c run.c's encode() (karpathy/llama2.c, run.c):
    BOS (1); a dummy-prefix " " token when the text is non-empty; each UTF-8 code point (at most
    4 bytes) looked up as a whole token, else its bytes as byte tokens (byte + 3); then, while
    any adjacent pair concatenates to a vocabulary entry, merge the pair whose merged entry has
    the highest score (first such pair on ties, as run.c's strict `>`); EOS (2) when asked.
    run.c looks tokens up by binary search over the sorted vocabulary; with no duplicate entries
    (asserted) that is the same as this dict lookup."""
    lookup = {piece: i for i, piece in enumerate(vocab)}
    if len(lookup) != len(vocab):
        raise ValueError("tokenizer has duplicate pieces: run.c's bsearch lookup is ambiguous")
    tokens = [1] if bos else []
    raw = text.encode("utf-8")
    if raw:
        tokens.append(lookup[b" "])
    i = 0
    while i < len(raw):
        # run.c accumulates a code point's bytes: a lead byte plus up to 3 continuation bytes.
        j = i + 1
        while j < len(raw) and (raw[j] & 0xC0) == 0x80 and j - i < 4:
            j += 1
        code_point = raw[i:j]
        if code_point in lookup:
            tokens.append(lookup[code_point])
        else:
            tokens.extend(b + 3 for b in code_point)
        i = j
    while True:
        best_score, best_id, best_idx = -1e10, -1, -1
        for k in range(len(tokens) - 1):
            merged = lookup.get(vocab[tokens[k]] + vocab[tokens[k + 1]], -1)
            if merged != -1 and scores[merged] > best_score:
                best_score, best_id, best_idx = scores[merged], merged, k
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    if eos:
        tokens.append(2)
    return tokens


def run_c_decode_piece(vocab: list[bytes], prev_token: int, token: int) -> bytes:
    """run.c's decode(): strip the leading space of a piece that follows BOS; byte tokens
    "<0xXX>" become the raw byte."""
    piece = vocab[token]
    if prev_token == 1 and piece.startswith(b" "):
        piece = piece[1:]
    m = re.fullmatch(rb"<0x([0-9A-Fa-f]{2})>", piece)
    return bytes([int(m.group(1), 16)]) if m else piece


def run_c_decode(vocab: list[bytes], prev_token: int, tokens: list[int]) -> str:
    """The text run.c prints for `tokens` (without safe_printf's filter of non-printable single
    bytes), decoded as UTF-8 with replacement characters for invalid sequences."""
    out = b""
    for token in tokens:
        out += run_c_decode_piece(vocab, prev_token, token)
        prev_token = token
    return out.decode("utf-8", errors="replace")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory")
    parser.add_argument("--hf-out", type=Path, help="also save the converted HF model here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    header, weights = read_checkpoint(args.checkpoint)
    vocab, scores = read_tokenizer(args.tokenizer, header["vocab_size"])
    prompt_ids = run_c_encode(vocab, scores, PROMPT_TEXT)
    if run_c_decode(vocab, prompt_ids[0], prompt_ids[1:]) != PROMPT_TEXT:
        raise RuntimeError(f"run.c decode of {prompt_ids} does not give back {PROMPT_TEXT!r}")

    model = to_hf_model(header, weights)
    if args.hf_out:
        model.save_pretrained(args.hf_out)

    hf_logits = fixtures.prompt_logits(model, prompt_ids).numpy()
    run_c_logits = run_c_forward_logits(header, weights, prompt_ids)
    run_c_diff = float(np.abs(hf_logits - run_c_logits).max())
    if run_c_diff > 1e-4:
        raise RuntimeError(f"HF conversion disagrees with run.c's forward: max |dlogit| {run_c_diff}")
    # The same conversion without the q/k permutation, to show that the check above can fail.
    unpermuted = to_hf_model(header, weights, permute_qk=False)
    unpermuted_diff = float(np.abs(fixtures.prompt_logits(unpermuted, prompt_ids).numpy()
                                   - run_c_logits).max())

    meta = {
        "name": "stories260K",
        "source_checkpoint": {"file": "models/stories260K/stories260K.bin (under ../shared)",
                              "bytes": args.checkpoint.stat().st_size,
                              "sha256": sha256(args.checkpoint), "header": header},
        "source_tokenizer": {"file": "models/stories260K/tok512.bin (under ../shared)",
                             "sha256": sha256(args.tokenizer)},
        "conversion": "LlamaForCausalLM; q_proj/k_proj permuted from Meta's interleaved rope "
                      "layout to rotate_half (convert_llama_weights_to_hf's permute); w1->gate_proj, "
                      "w3->up_proj, w2->down_proj; rms_norm_eps 1e-5; rope_theta 10000; "
                      "classifier shared with the embedding (tied)",
        "prompt_text": PROMPT_TEXT,
        "prompt_encoding": "transcription of llama2.c run.c encode() in tools/convert_llama2c_to_hf.py "
                           "(BOS, dummy-prefix ' ', code points, score-ordered pair merges)",
        "generate": f"model.generate(do_sample=False, max_new_tokens={GREEDY_TOKENS}, eos_token_id=None)",
    }
    out_meta = fixtures.write_fixture(args.out, model, prompt_ids, GREEDY_TOKENS, meta,
                                      save_weights=False)
    (args.out / "hf_config.json").write_text(model.config.to_json_string())

    greedy = json.loads((args.out / "greedy_ids.json").read_text())["ids"]
    stop = [i for i, t in enumerate(greedy) if t == 1]
    out_meta["self_checks"]["run_c_forward_vs_hf_prompt_logits_max_abs_diff"] = run_c_diff
    out_meta["self_checks"]["run_c_forward_vs_hf_without_qk_permute_max_abs_diff"] = unpermuted_diff
    # Also run the run.c transcription over prompt + generation: its argmax must give the same
    # 64 tokens (an independent check of the greedy ids, not only of the prompt logits).
    all_logits = run_c_forward_logits(header, weights, prompt_ids + greedy[:-1])
    run_c_greedy = all_logits[len(prompt_ids) - 1:].argmax(-1).tolist()
    out_meta["self_checks"]["run_c_forward_greedy_matches"] = run_c_greedy == greedy
    if run_c_greedy != greedy:
        raise RuntimeError(f"run.c transcription's greedy tokens differ: {run_c_greedy} vs {greedy}")
    out_meta["decoded"] = {
        "prompt_text_from_ids": run_c_decode(vocab, prompt_ids[0], prompt_ids[1:]),
        "generated_text": run_c_decode(vocab, prompt_ids[-1], greedy),
        "as_run_c_prints_it": run_c_decode(vocab, prompt_ids[0], prompt_ids[1:] + greedy),
        "note": "run.c stops generating at BOS (1); positions of BOS among the 64: " + str(stop),
    }
    printed = out_meta["decoded"]["as_run_c_prints_it"]
    out_meta["self_checks"]["text_is_prefix_of_llama2c_test_all_expected_stdout"] = (
        LLAMA2C_EXPECTED_STDOUT.startswith(printed))
    if not LLAMA2C_EXPECTED_STDOUT.startswith(printed):
        raise RuntimeError(f"greedy text {printed!r} is not a prefix of llama2.c's expected output")
    (args.out / "meta.json").write_text(json.dumps(out_meta, indent=2) + "\n")
    print(f"stories260K: prompt {prompt_ids}, greedy {greedy}\n"
          f"text: {out_meta['decoded']['as_run_c_prints_it']!r}\n"
          f"checks {out_meta['self_checks']}, greedy min gap "
          f"{out_meta['logit_stats']['greedy_min_top2_gap']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
