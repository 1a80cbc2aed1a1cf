#!/usr/bin/env python3
"""e2e: `eaq info --json --tensors` on the real models, checked against independent readers.

- The GGUF models in models/ (SmolLM2-135M-Instruct Q4_1, gemma-3-270m Q4_K_M): every value is
  compared with what the `gguf` package's GGUFReader reads from the same file (metadata, tensor
  names/types/shapes/byte counts; the bytes of every tensor under 64 KiB by checksum).
- stories260K (llama2.c): the 7-int header parsed here with struct, the array layout of llama2.c's
  export.py, and the checksum of every tensor's bytes.
- Text mode, and a missing / unreadable model giving a clean error.

Env: EAQ_BIN, EAQ_ROOT, EAQ_SHARED. Exit 77 when no model is present at all.
"""
import json
import os
import struct
import subprocess
import tempfile
import sys

EAQ = os.environ.get("EAQ_BIN", "eaq")
ROOT = os.environ.get("EAQ_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
GGUF_MODELS = [os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"),
               os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")]
STORIES = os.path.join(SHARED, "models", "stories260K", "stories260K.bin")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def fnv1a64(data) -> str:
    h = 0xCBF29CE484222325
    for b in bytes(data):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def eaq_info(path, *flags):
    r = subprocess.run([EAQ, "info", *flags, path], capture_output=True, text=True)
    if r.returncode != 0:
        FAILURES.append(f"eaq info {path}: exit {r.returncode}: {r.stderr.strip()}")
        print("FAIL:", r.stderr)
        return None
    return r.stdout


def check_gguf(path):
    import gguf  # the reference reader

    reader = gguf.GGUFReader(path)
    name = os.path.basename(path)

    def field(key, default=None):
        f = reader.fields.get(key)
        return default if f is None else f.contents()

    out = eaq_info(path, "--json", "--tensors")
    if out is None:
        return
    info = json.loads(out)
    arch = field("general.architecture")
    check(info["architecture"] == arch, f"{name}: architecture {info['architecture']} vs {arch}")
    n_heads = field(f"{arch}.attention.head_count")
    hidden = field(f"{arch}.embedding_length")
    expect = {
        "n_layers": field(f"{arch}.block_count"),
        "hidden_size": hidden,
        "intermediate_size": field(f"{arch}.feed_forward_length"),
        "n_heads": n_heads,
        "n_kv_heads": field(f"{arch}.attention.head_count_kv", n_heads),
        "head_dim": field(f"{arch}.attention.key_length", hidden // n_heads),
        "context_length": field(f"{arch}.context_length"),
        "vocab_size": field(f"{arch}.vocab_size", len(reader.fields["tokenizer.ggml.tokens"].data)),
        "file_bytes": os.path.getsize(path),
        "n_params": sum(int(t.n_elements) for t in reader.tensors),
        "weight_bytes": sum(int(t.n_bytes) for t in reader.tensors),
        "n_tensors": len(reader.tensors),
        "tokenizer": "gguf:" + field("tokenizer.ggml.model"),
        "tokenizer_pre": field("tokenizer.ggml.pre"),
        "bos_token_id": field("tokenizer.ggml.bos_token_id"),
    }
    for key, value in expect.items():
        check(info.get(key) == value, f"{name}: {key} = {info.get(key)!r}, gguf reads {value!r}")
    bpw = 8.0 * expect["weight_bytes"] / expect["n_params"]
    check(abs(info["bits_per_weight"] - bpw) < 1e-9, f"{name}: bits_per_weight {info['bits_per_weight']} vs {bpw}")
    check(abs(info["rms_norm_eps"] - field(f"{arch}.attention.layer_norm_rms_epsilon")) < 1e-12, f"{name}: eps")
    check(info["rope"]["theta"] == field(f"{arch}.rope.freq_base", 10000.0), f"{name}: rope theta")
    # llama.cpp permutes llama q/k (adjacent-pair rope); qwen2/gemma3 keep rotate_half.
    check(info["rope"]["layout"] == ("normal" if arch == "llama" else "neox"), f"{name}: rope layout")
    names = {t.name for t in reader.tensors}
    check(info["tied_embeddings"] == ("output.weight" not in names), f"{name}: tied embeddings")

    # Dtype summary and the tensor table, tensor by tensor.
    summary = {}
    for t in reader.tensors:
        d = summary.setdefault(t.tensor_type.name.lower(), {"n_tensors": 0, "n_elements": 0, "bytes": 0})
        d["n_tensors"] += 1
        d["n_elements"] += int(t.n_elements)
        d["bytes"] += int(t.n_bytes)
    check(info["dtypes"] == summary, f"{name}: dtype summary {info['dtypes']} vs {summary}")
    by_name = {t["name"]: t for t in info["tensors"]}
    check(set(by_name) == names, f"{name}: tensor names differ: {sorted(set(by_name) ^ names)[:5]}")
    n_hashed = 0
    for t in reader.tensors:
        e = by_name.get(t.name)
        if e is None:
            continue
        check(e["dtype"] == t.tensor_type.name.lower(), f"{name}: {t.name} dtype")
        check(e["shape"] == [int(x) for x in reversed(t.shape)], f"{name}: {t.name} shape {e['shape']}")
        check(e["bytes"] == int(t.n_bytes), f"{name}: {t.name} bytes")
        if t.n_bytes <= 65536:
            check(e["fnv1a64"] == fnv1a64(t.data.tobytes()), f"{name}: {t.name} data checksum")
            n_hashed += 1

    if arch == "gemma3":
        window = field("gemma3.attention.sliding_window")
        check(info["sliding_window"] == window, f"{name}: sliding window")
        # llama.cpp's gemma3 pattern: every 6th layer global.
        check(info["sliding_layers"] == [i for i in range(expect["n_layers"]) if i % 6 != 5], f"{name}: sliding layers")
        check(info["qk_norm"] is True and info["norm_adds_one"] is False, f"{name}: gemma norms")
        check(abs(info["embedding_scale"] - hidden ** 0.5) < 1e-9, f"{name}: embedding scale")
        check(info["rope"]["theta_local"] == 10000.0, f"{name}: local rope base")
    template = field("tokenizer.chat_template")
    if template is None:
        check(info["chat_template"] == "none", f"{name}: chat template {info['chat_template']}")
    elif "<|im_start|>" in template:
        check(info["chat_template"] == "chatml", f"{name}: chat template {info['chat_template']}")
    print(f"ok: {name}: {arch}, {info['n_params']} params, {info['n_tensors']} tensors ({n_hashed} checksummed), "
          f"{info['bits_per_weight']:.3f} bits/weight")


def check_stories():
    data = open(STORIES, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // n_heads
    kv = n_kv_heads * head
    out = eaq_info(STORIES, "--json", "--tensors")
    if out is None:
        return
    info = json.loads(out)
    expect = {"architecture": "llama", "format": "llama2c", "n_layers": n_layers, "hidden_size": dim,
              "intermediate_size": hidden, "n_heads": n_heads, "n_kv_heads": n_kv_heads, "head_dim": head,
              "vocab_size": vocab, "context_length": seq_len, "file_bytes": len(data),
              "tied_embeddings": shared, "tokenizer": "llama2c"}
    for key, value in expect.items():
        check(info.get(key) == value, f"stories260K: {key} = {info.get(key)!r}, header says {value!r}")
    check(info["rope"]["layout"] == "normal", "stories260K: run.c rotates adjacent pairs")
    check(info["tokenizer_path"].endswith("tok512.bin"), f"stories260K: tokenizer {info['tokenizer_path']}")

    # export.py legacy layout: (name, per-layer shape or None for global, canonical pattern).
    layout = [("token_embedding_table", (vocab, dim), False, "token_embd.weight"),
              ("rms_att_weight", (dim,), True, "blk.{}.attn_norm.weight"),
              ("wq", (dim, dim), True, "blk.{}.attn_q.weight"),
              ("wk", (kv, dim), True, "blk.{}.attn_k.weight"),
              ("wv", (kv, dim), True, "blk.{}.attn_v.weight"),
              ("wo", (dim, dim), True, "blk.{}.attn_output.weight"),
              ("rms_ffn_weight", (dim,), True, "blk.{}.ffn_norm.weight"),
              ("w1", (hidden, dim), True, "blk.{}.ffn_gate.weight"),
              ("w2", (dim, hidden), True, "blk.{}.ffn_down.weight"),
              ("w3", (hidden, dim), True, "blk.{}.ffn_up.weight"),
              ("rms_final_weight", (dim,), False, "output_norm.weight")]
    by_name = {t["name"]: t for t in info["tensors"]}
    offset, n_params = 28, 0
    for array, shape, per_layer, pattern in layout:
        count = 1
        for s in shape:
            count *= s
        for layer in range(n_layers if per_layer else 1):
            name = pattern.format(layer)
            e = by_name.get(name)
            raw = data[offset: offset + 4 * count]
            offset += 4 * count
            n_params += count
            if e is None:
                check(False, f"stories260K: missing {name}")
                continue
            check(e["shape"] == list(shape) and e["dtype"] == "f32", f"stories260K: {name} shape/dtype")
            check(e["source_name"] == (f"{array}[{layer}]" if per_layer else array), f"stories260K: {name} source")
            check(e["fnv1a64"] == fnv1a64(raw), f"stories260K: {name} data checksum")
    check(info["n_params"] == n_params, f"stories260K: n_params {info['n_params']} vs {n_params}")
    check(len(by_name) == 2 + 9 * n_layers, f"stories260K: {len(by_name)} tensors")
    print(f"ok: stories260K: {n_params} params, {len(by_name)} tensors checksummed")


def check_text_and_errors(path):
    out = eaq_info(path)
    if out is not None:
        check("architecture" in out and "bits per weight" in out and "dtypes:" in out, "text mode output")
    r = subprocess.run([EAQ, "info", os.path.join(ROOT, "models", "no-such-model.gguf")], capture_output=True, text=True)
    check(r.returncode == 1 and "eaq: error:" in r.stderr and "no-such-model.gguf" in r.stderr,
          f"missing model: exit {r.returncode}, {r.stderr.strip()!r}")
    # Damaged files through the CLI: a clear eaq::Error naming the file, exit code 1, no crash.
    with tempfile.TemporaryDirectory() as tmp:
        data = open(path, "rb").read() if path.endswith(".gguf") else None
        cases = []
        if data is not None:
            truncated = os.path.join(tmp, "truncated.gguf")
            open(truncated, "wb").write(data[: len(data) // 3])
            cases.append((["info", truncated], "truncated.gguf"))
            huge_count = bytearray(data[:4096])
            huge_count[8:16] = (2**62).to_bytes(8, "little")  # tensor count far past the file's end
            count_file = os.path.join(tmp, "huge-count.gguf")
            open(count_file, "wb").write(bytes(huge_count))
            cases.append((["info", count_file], "huge-count.gguf"))
        bad_tok = os.path.join(tmp, "tokenizer.json")
        open(bad_tok, "w").write('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c d"]')
        cases.append((["tokenize", "--tokenizer", bad_tok, "hello"], "tokenizer.json"))
        for args, name in cases:
            r = subprocess.run([EAQ, *args], capture_output=True, text=True, timeout=60)
            check(r.returncode == 1 and "eaq: error:" in r.stderr and name in r.stderr,
                  f"eaq {args[0]} on a damaged {name}: exit {r.returncode}, {r.stderr.strip()[-300:]!r}")


def main():
    present = [p for p in GGUF_MODELS if os.path.exists(p)]
    if not present and not os.path.exists(STORIES):
        print("SKIP: no model present (run scripts/setup.sh)")
        return 77
    try:
        import gguf  # noqa: F401
        have_gguf = True
    except ImportError:
        have_gguf = False
        print("note: the gguf package is missing; GGUF models are not checked")
    if have_gguf:
        for p in present:
            check_gguf(p)
    if os.path.exists(STORIES):
        check_stories()
    check_text_and_errors(present[0] if present else STORIES)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all eaq info checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
