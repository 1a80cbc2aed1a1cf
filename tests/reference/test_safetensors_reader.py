#!/usr/bin/env python3
"""Reference test: eaq's safetensors reader and config.json mapping against the Python side.

Tiny Hugging Face model directories (llama, qwen2 with q/k/v biases, gemma3, a sharded llama) are
written with random numpy weights — through the real `safetensors` package where it can express
the dtype (F32, F16, I8...), by hand for BF16 and F8_E4M3 (numpy has neither) — and read back with
`safetensors.safe_open` when installed. `eaq info --json --tensors` must report every tensor with
the same name, dtype, shape and bytes (FNV-1a 64 of the stored bytes), the same parameter count
and file size, and the config values of config.json. Corrupted copies must fail with a clean
`eaq: error:` naming the file, never a crash.

Env: EAQ_BIN (the eaq binary). Exit 77 (skipped) when numpy is missing.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed")
    sys.exit(77)

try:
    import safetensors.numpy as st_numpy
    from safetensors import safe_open
except ImportError:  # the hand-written path still checks eaq against numpy's bytes
    st_numpy = None
    safe_open = None

EAQ = os.environ.get("EAQ_BIN", "eaq")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# (safetensors dtype, numpy dtype used to hold the bytes, element bytes)
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F8_E4M3": np.uint8}


def random_tensor(rng, dtype, shape):
    if dtype == "F32":
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == "F16":
        return rng.standard_normal(shape).astype(np.float16)
    if dtype == "BF16":  # top 16 bits of float32
        return (rng.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    if dtype == "F8_E4M3":
        b = rng.integers(0, 256, size=shape, dtype=np.uint8)
        b[(b & 0x7F) == 0x7F] = 0  # avoid NaN encodings
        return b
    raise ValueError(dtype)


def write_safetensors_by_hand(path, tensors, dtypes):
    """The format, as the spec and the reference writer lay it out: u64 header length, JSON
    header padded with spaces to 8 bytes, tensors back to back in header order."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dtypes[name], "shape": list(arr.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def write_file(path, tensors, dtypes):
    if st_numpy is not None and all(d in ("F32", "F16") for d in dtypes.values()):
        st_numpy.save_file(tensors, path, metadata={"format": "pt"})
    else:
        write_safetensors_by_hand(path, tensors, dtypes)


def llama_like_tensors(rng, cfg, dtype, *, qkv_bias=False, gemma=False, lm_head=True):
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    D = cfg.get("head_dim", H // cfg["num_attention_heads"])
    Q, KV = cfg["num_attention_heads"] * D, cfg["num_key_value_heads"] * D
    t = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,)}
    if lm_head:
        t["lm_head.weight"] = (V, H)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        t.update({p + "input_layernorm.weight": (H,), p + "self_attn.q_proj.weight": (Q, H),
                  p + "self_attn.k_proj.weight": (KV, H), p + "self_attn.v_proj.weight": (KV, H),
                  p + "self_attn.o_proj.weight": (H, Q), p + "post_attention_layernorm.weight": (H,),
                  p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H),
                  p + "mlp.down_proj.weight": (H, I)})
        if qkv_bias:
            t.update({p + "self_attn.q_proj.bias": (Q,), p + "self_attn.k_proj.bias": (KV,),
                      p + "self_attn.v_proj.bias": (KV,)})
        if gemma:
            t.update({p + "self_attn.q_norm.weight": (D,), p + "self_attn.k_norm.weight": (D,),
                      p + "pre_feedforward_layernorm.weight": (H,),
                      p + "post_feedforward_layernorm.weight": (H,)})
    tensors = {name: random_tensor(rng, dtype, shape) for name, shape in t.items()}
    return tensors, {name: dtype for name in tensors}


def eaq_info(path):
    r = subprocess.run([EAQ, "info", "--json", "--tensors", path], capture_output=True, text=True)
    if r.returncode != 0:
        FAILURES.append(f"eaq info {path} failed: {r.stderr.strip()}")
        print("FAIL:", r.stderr)
        return None
    return json.loads(r.stdout)


def compare(model_dir, cfg, tensors, dtypes, files, label):
    info = eaq_info(model_dir)
    if info is None:
        return
    # Read back through the reference reader where installed: it must agree with numpy.
    if safe_open is not None:
        for f in files:
            with safe_open(f, framework="numpy") as sf:
                for name in sf.keys():
                    if dtypes[name] in ("F32", "F16"):
                        check(np.array_equal(sf.get_tensor(name), tensors[name]), f"{label}: safe_open {name}")
    by_source = {t["source_name"]: t for t in info["tensors"]}
    expected_names = {n for n in tensors if not (n == "lm_head.weight" and cfg.get("tie_word_embeddings"))}
    check(set(by_source) == expected_names, f"{label}: tensor names {sorted(set(by_source) ^ expected_names)}")
    for name in expected_names & set(by_source):
        t, arr = by_source[name], tensors[name]
        check(t["dtype"] == dtypes[name].lower(), f"{label}: {name} dtype {t['dtype']} vs {dtypes[name]}")
        check(t["shape"] == list(arr.shape), f"{label}: {name} shape {t['shape']} vs {list(arr.shape)}")
        raw = np.ascontiguousarray(arr).tobytes()
        check(t["bytes"] == len(raw), f"{label}: {name} bytes {t['bytes']} vs {len(raw)}")
        check(t["fnv1a64"] == fnv1a64(raw), f"{label}: {name} data differs")
    n_params = sum(tensors[n].size for n in expected_names)
    check(info["n_params"] == n_params, f"{label}: n_params {info['n_params']} vs {n_params}")
    check(info["file_bytes"] == sum(os.path.getsize(f) for f in files), f"{label}: file_bytes")
    for key, cfg_key in [("n_layers", "num_hidden_layers"), ("hidden_size", "hidden_size"),
                         ("intermediate_size", "intermediate_size"), ("n_heads", "num_attention_heads"),
                         ("n_kv_heads", "num_key_value_heads"), ("vocab_size", "vocab_size"),
                         ("context_length", "max_position_embeddings")]:
        check(info[key] == cfg[cfg_key], f"{label}: {key} {info[key]} vs {cfg[cfg_key]}")
    check(info["format"] == "safetensors", f"{label}: format")
    check(info["rope"]["layout"] == "neox", f"{label}: HF weights use the neox rope layout")
    # transformers' defaults: gemma3 ties, llama and qwen2 do not.
    tied = bool(cfg.get("tie_word_embeddings", cfg["model_type"] == "gemma3_text"))
    check(info["tied_embeddings"] == tied, f"{label}: tied")
    print(f"ok: {label}: {len(by_source)} tensors, {n_params} params")
    return info


def expect_clean_error(path, label, needle):
    r = subprocess.run([EAQ, "info", "--json", path], capture_output=True)
    try:
        stderr = r.stderr.decode("utf-8")
    except UnicodeDecodeError:
        stderr = r.stderr.decode("utf-8", errors="replace")
        check(False, f"{label}: the error message is not valid UTF-8: {stderr!r}")
    check(r.returncode == 1, f"{label}: exit code {r.returncode} (want 1; negative = killed by a signal)")
    check("eaq: error:" in stderr and needle in stderr, f"{label}: message {stderr.strip()!r}")
    print(f"ok: {label}: {stderr.strip()[:160]}")


def main():
    rng = np.random.default_rng(1234)
    work = tempfile.mkdtemp(prefix="eaq_st_ref_")
    try:
        base = {"hidden_size": 32, "intermediate_size": 48, "num_attention_heads": 4, "num_key_value_heads": 2,
                "num_hidden_layers": 2, "vocab_size": 64, "max_position_embeddings": 128, "rms_norm_eps": 1e-5}
        cases = [
            ("llama_f32", dict(base, model_type="llama", tie_word_embeddings=False), "F32", {}),
            ("llama_f16_tied", dict(base, model_type="llama", tie_word_embeddings=True), "F16", {}),
            ("qwen2_bf16", dict(base, model_type="qwen2", tie_word_embeddings=False), "BF16", {"qkv_bias": True}),
            ("gemma3_f8", dict(base, model_type="gemma3_text", head_dim=16, sliding_window=8,
                               sliding_window_pattern=2, query_pre_attn_scalar=16), "F8_E4M3",
             {"gemma": True, "lm_head": False}),
        ]
        for label, cfg, dtype, kw in cases:
            d = os.path.join(work, label)
            os.makedirs(d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(cfg, f)
            tensors, dtypes = llama_like_tensors(rng, cfg, dtype, **kw)
            path = os.path.join(d, "model.safetensors")
            write_file(path, tensors, dtypes)
            info = compare(d, cfg, tensors, dtypes, [path], label)
            if info and label == "gemma3_f8":
                check(info["sliding_layers"] == [0], f"{label}: sliding layers {info['sliding_layers']}")
                check(info["norm_adds_one"] is True, f"{label}: HF gemma adds 1 to norms at run time")

        # Sharded: the same llama split over two files by an index.
        cfg = dict(base, model_type="llama", tie_word_embeddings=False)
        d = os.path.join(work, "llama_sharded")
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        tensors, dtypes = llama_like_tensors(rng, cfg, "F32")
        names = list(tensors)
        shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
                  "model-00002-of-00002.safetensors": names[len(names) // 2:]}
        weight_map = {}
        for shard, shard_names in shards.items():
            write_file(os.path.join(d, shard), {n: tensors[n] for n in shard_names}, dtypes)
            weight_map.update({n: shard for n in shard_names})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": sum(t.nbytes for t in tensors.values())}, "weight_map": weight_map}, f)
        compare(d, cfg, tensors, dtypes, [os.path.join(d, s) for s in shards], "llama_sharded")

        # Corruptions of the llama_f32 file: each must be a clean eaq::Error naming the file.
        good = open(os.path.join(work, "llama_f32", "model.safetensors"), "rb").read()
        n = struct.unpack("<Q", good[:8])[0]
        bad_dir = os.path.join(work, "bad")
        os.makedirs(bad_dir)
        shutil.copy(os.path.join(work, "llama_f32", "config.json"), bad_dir)
        bad = os.path.join(bad_dir, "model.safetensors")
        corruptions = [
            ("truncated data", good[:-7], "past the end"),
            ("truncated header", good[: 8 + n // 2], "header length"),
            ("header length past end", struct.pack("<Q", len(good)) + good[8:], "header length"),
            ("trailing bytes", good + b"\0" * 4, "trailing"),
            ("unknown dtype", good.replace(b'"F32"', b'"Q32"', 1), "Q32"),
            ("offsets mismatch", good.replace(b'"shape":[64,32]', b'"shape":[64,31]', 1)
             if b'"shape":[64,32]' in good else good.replace(b'"shape": [64, 32]', b'"shape": [64, 31]', 1),
             "needs"),
            ("header one byte short", good.replace(b'"F32"', b'"F4"', 1), "not valid JSON"),
            ("not json", good[:8] + b"!" * n + good[8 + n:], "not valid JSON"),
        ]
        for label, data, needle in corruptions:
            with open(bad, "wb") as f:
                f.write(data)
            expect_clean_error(bad_dir, label, needle)
        # A config.json key missing.
        with open(os.path.join(bad_dir, "model.safetensors"), "wb") as f:
            f.write(good)
        cfg = dict(base, model_type="llama")
        del cfg["num_attention_heads"]
        with open(os.path.join(bad_dir, "config.json"), "w") as f:
            json.dump(cfg, f)
        expect_clean_error(bad_dir, "missing config key", "num_attention_heads")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all safetensors reference checks passed"
          + ("" if safe_open else " (safetensors package not installed: hand-written files only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
