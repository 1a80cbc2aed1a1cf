#!/usr/bin/env python3
"""e2e (label cuda): eaq's CUDA engine against its CPU engine on the same packed weights.

- stories260K, per precision: `eaq logits --device cuda` vs `--device cpu`, both with an f16 KV
  cache, max |Δ| over every position's logits (max |logit| ~20):
  - f16, bf16 with EAQ_CUDA_PREFILL=split (prefill GEMMs with ~f32 activations: f16 hi + lo,
    bf16 hi + lo + lo2): < 1e-2;
  - f16, bf16 by default: the prefill GEMMs take 16-bit activations (tensor cores, as HF fp16
    does), so the bound is the activations' rounding: < 5e-2 (f16), < 2e-1 (bf16);
  - int8 (W8A16 per channel): the prompt's GEMMs run on the exact int8 codes as f16 with the
    row scale applied to the f32 output. With split activations < 3e-2 — stories260K's
    FFN-down rows are 172 long, not a multiple of 8, so that matrix runs as f16 on the GPU
    (rounded int8 x scale): other weights than the CPU's, which dominates the difference
    (0.019 to 0.021 measured on an H200 whatever the prefill path, GEMV or dequantized GEMM);
    by default (16-bit activations) f16's bound, < 5e-2;
  - f16, bf16, int8 with EAQ_CUDA_PREFILL_HALF_INPUTS=0 (separate conversions of the GEMMs'
    16-bit inputs, where by default the norm, attention and activation kernels write them): the
    default's bounds;
  (the block formats q8_0/int4/nf4 cannot hold 172-long rows at all: not tested on this model);
- the packed prefill (int4-g128, int4-g64, int8) on a synthetic llama whose every matrix the
  mixed-input GEMM takes (rows and columns multiples of 128; `eaq synth`): through it (the
  default) every position's logits equal the dequantizing path's (EAQ_CUDA_PACKED_PREFILL=dequant) bit for bit, and the
  CPU's within 5e-2; int4 by default adds o_proj/down into the residual stream in the GEMM (beta =
  1), and again with EAQ_CUDA_PREFILL_RESIDUAL_GEMM=0 (the next norm adds them) the same bits; a
  bad EAQ_CUDA_PACKED_PREFILL fails naming it;
- greedy generation (decode through the captured CUDA graph) gives the CPU's 48 tokens, by
  default (residual adds in the GEMVs' epilogues, norm kernels reading the residual stream), with
  EAQ_CUDA_FUSED_NORM=0 (the earlier separate add + norm kernels) and with EAQ_CUDA_FUSED_NORM=gemv
  (the norms computed in the GEMVs after them, the final one in the LM head's);
- sampled generation (llama.cpp's default chain, seeded) picks on the GPU the tokens the host
  sampler picks from the same GPU logits (EAQ_CUDA_SAMPLING=host);
- bad devices fail with a clear message: an index past the GPUs, a malformed --device, an unknown
  EAQ_CUDA_SAMPLING.
Skips (77) where no GPU is usable (the CI machine).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
STORIES = os.path.join(SHARED, "models", "stories260K")
MODEL = os.path.join(STORIES, "stories260K.bin")
TOKENIZER = os.path.join(STORIES, "tok512.bin")
PROMPT = "Once upon a time there was a little girl who lived in a village near the forest. She liked"
failures = []


def run(*args):
    return subprocess.run([EAQ, *args], capture_output=True, text=True, timeout=600)


def run_env(env, *args):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([EAQ, *args], capture_output=True, text=True, timeout=600, env=full)


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
    if not ok:
        failures.append(name)


def read_f32(path):
    data = open(path, "rb").read()
    return struct.unpack(f"<{len(data) // 4}f", data)


def logits(tmp, device, precision, env=None):
    out = os.path.join(tmp, f"{device.replace(':', '_')}_{precision}.f32")
    r = run_env(env, "logits", MODEL, "--tokenizer", TOKENIZER, "-p", PROMPT, "--weights", precision, "--kv", "f16",
            "--device", device, "-t", "2", "-o", out)
    return r, (read_f32(out) if r.returncode == 0 else None)


def main():
    scratch = os.path.join(tempfile.gettempdir(), f"eaq_cuda_probe_{os.getpid()}.f32")
    probe = run("logits", MODEL, "--tokenizer", TOKENIZER, "-p", "Once", "--device", "cuda", "-o", scratch)
    if probe.returncode != 0 and "cannot be used" in probe.stderr:
        print("skip: no usable GPU: " + probe.stderr.strip())
        return 77
    if probe.returncode != 0 and "built without" in probe.stderr:
        print("skip: this eaq has no CUDA backend")
        return 77
    check("logits --device cuda runs", probe.returncode == 0, probe.stderr.strip()[-400:])

    with tempfile.TemporaryDirectory() as tmp:
        cases = [("f16", {"EAQ_CUDA_PREFILL": "split"}, 1e-2), ("bf16", {"EAQ_CUDA_PREFILL": "split"}, 1e-2),
                 ("f16", {}, 5e-2), ("bf16", {}, 2e-1), ("int8", {"EAQ_CUDA_PREFILL": "split"}, 3e-2),
                 ("int8", {}, 5e-2)]
        # Prefill GEMM inputs converted by kernels of their own (the default has the norm,
        # attention and activation kernels write them): the default's bounds.
        half_inputs = {"EAQ_CUDA_PREFILL_HALF_INPUTS": "0"}
        cases += [("f16", half_inputs, 5e-2), ("bf16", half_inputs, 2e-1), ("int8", half_inputs, 5e-2)]
        _, cpu_logits = None, {}
        for precision, env, bound in cases:
            if precision not in cpu_logits:
                rc, cpu_logits[precision] = logits(tmp, "cpu", precision)
                if rc.returncode != 0:
                    check(f"logits {precision} on cpu", False, rc.stderr.strip()[-400:])
            cpu = cpu_logits[precision]
            rg, gpu = logits(tmp, "cuda:0", precision, env)
            label = f"logits {precision}" + (" (prefill split hi+lo)" if "EAQ_CUDA_PREFILL" in env else "") + \
                (" (prefill inputs converted apart)" if env is half_inputs else "")
            if cpu is None or rg.returncode != 0:
                check(f"{label} runs on cuda", False, rg.stderr.strip()[-400:])
                continue
            diff = max(abs(a - b) for a, b in zip(cpu, gpu))
            scale = max(abs(a) for a in cpu)
            check(f"{label}: cuda vs cpu max |Δ| < {bound:g} over {len(cpu)} values",
                  diff < bound and len(cpu) == len(gpu), f"max |Δ| = {diff:.3g} (max |logit| {scale:.3g})")

    check_packed_prefill()

    gen = {}
    decode_variants = [("cuda", {}), ("cuda, EAQ_CUDA_FUSED_NORM=0", {"EAQ_CUDA_FUSED_NORM": "0"}),
                       ("cuda, EAQ_CUDA_FUSED_NORM=gemv", {"EAQ_CUDA_FUSED_NORM": "gemv"})]
    for name, env in [("cpu", {})] + decode_variants:
        device = name.split(",")[0]
        r = run_env(env, "generate", MODEL, "--tokenizer", TOKENIZER, "-p", "Once upon a time", "-n", "48", "--temp",
                    "0", "--ignore-eos", "--json", "--weights", "f16", "--kv", "f16", "--device", device, "-t", "2")
        check(f"generate on {name}", r.returncode == 0, r.stderr.strip()[-300:])
        if r.returncode == 0:
            gen[name] = json.loads(r.stdout)
    for name, _ in decode_variants:
        if "cpu" not in gen or name not in gen:
            continue
        same = gen["cpu"]["tokens"] == gen[name]["tokens"]
        first_diff = next((i for i, (a, b) in enumerate(zip(gen["cpu"]["tokens"], gen[name]["tokens"])) if a != b), None)
        check(f"greedy tokens {name} == cpu (48 tokens)", same, f"first difference at {first_diff}" if not same else "")
    if "cpu" in gen and "cuda" in gen:
        print(f"info: decode tok/s cpu {gen['cpu']['decode_tokens_per_s']:.0f}, cuda {gen['cuda']['decode_tokens_per_s']:.0f}")

    # Sampling on the GPU (kernels/cuda sample_token) draws the seed's uniform numbers as the host
    # sampler does, so on the same GPU logits (EAQ_CUDA_SAMPLING=host copies them to the host and
    # samples there) the tokens must agree. llama.cpp's default chain, with a repetition penalty.
    chain = ["--temp", "0.8", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05", "--repeat-penalty", "1.1",
             "--seed", "7"]
    sampled = {}
    for name, env in [("device", {}), ("host", {"EAQ_CUDA_SAMPLING": "host"}), ("cpu", {})]:
        r = run_env(env, "generate", MODEL, "--tokenizer", TOKENIZER, "-p", "Once upon a time", "-n", "64", *chain,
                    "--ignore-eos", "--json", "--weights", "f16", "--kv", "f16", "--device",
                    "cpu" if name == "cpu" else "cuda", "-t", "2")
        check(f"sampled generation, {name}", r.returncode == 0, r.stderr.strip()[-300:])
        if r.returncode == 0:
            sampled[name] = json.loads(r.stdout)
    if "device" in sampled and "host" in sampled:
        a, b = sampled["device"]["tokens"], sampled["host"]["tokens"]
        first_diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        check("sampled tokens: GPU sampling == host sampling of the GPU's logits (64 tokens)", a == b and len(a) == 64,
              f"first difference at {first_diff}" if a != b else "")
        if "cuda" in gen:
            greedy = gen["cuda"]["tokens"]
            check(f"sampling draws something else than greedy (first {len(greedy)} tokens)", a[: len(greedy)] != greedy)
        print(f"info: sampled decode tok/s, GPU sampling {sampled['device']['decode_tokens_per_s']:.0f}, "
              f"host sampling {sampled['host']['decode_tokens_per_s']:.0f}")
    if "device" in sampled and "cpu" in sampled:
        a, b = sampled["device"]["tokens"], sampled["cpu"]["tokens"]
        first_diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        print(f"info: sampled tokens cuda vs cpu engine (logits differ by f16 rounding): "
              f"{'identical' if a == b else f'first difference at {first_diff}'}")
    r = run_env({"EAQ_CUDA_SAMPLING": "gpu"}, "generate", MODEL, "--tokenizer", TOKENIZER, "-p", "Once", "-n", "2",
                "--device", "cuda")
    check("EAQ_CUDA_SAMPLING=gpu fails naming the value", r.returncode != 0 and "EAQ_CUDA_SAMPLING='gpu'" in r.stderr,
          r.stderr.strip()[-300:])

    r = run("logits", MODEL, "--tokenizer", TOKENIZER, "-p", "Once", "--device", "cuda:99", "-o", scratch)
    check("--device cuda:99 fails naming the range", r.returncode != 0 and "out of range" in r.stderr, r.stderr.strip()[-300:])
    r = run("logits", MODEL, "--tokenizer", TOKENIZER, "-p", "Once", "--device", "gpu0", "-o", scratch)
    check("--device gpu0 fails naming the flag", r.returncode != 0 and "--device gpu0" in r.stderr, r.stderr.strip()[-300:])

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


# A llama of its own whose every projection and LM head has rows and columns that are multiples of
# 128, so the packed prefill takes CUTLASS's mixed-input GEMM (kernels/cuda/mixed_input_gemm.h);
# q|k|v 512 rows, gate|up 1536, down 256 x 768, head 1024 x 256.
MIXED_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 768,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "num_hidden_layers": 2,
    "vocab_size": 1024, "rms_norm_eps": 1e-05, "rope_theta": 10000, "max_position_embeddings": 512,
    "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
    "torch_dtype": "float16",
}


def check_packed_prefill():
    """The packed prefill of int4-g64/g128 and int8 through the mixed-input GEMM against the
    dequantizing path (EAQ_CUDA_PACKED_PREFILL=dequant: f16 weights, cuBLAS): both multiply the same
    f16 products and neither splits K, so every position's logits must agree bit for bit; and each
    against the CPU engine on the same packed weights (< 5e-2, the 16-bit activations' bound)."""
    ids = [1] + [(37 * i + 11) % 1000 + 3 for i in range(47)]  # 48 tokens: past the batched GEMVs' 8
    # CUTLASS's kernel is built for sm_90a alone: on other GPUs the packed prefill dequantizes.
    hw = run("hw", "--json")
    devices = json.loads(hw.stdout).get("cuda_backend", {}).get("devices", []) if hw.returncode == 0 else []
    hopper = bool(devices) and devices[0].get("compute_capability") == "9.0"
    if not hopper:
        print(f"info: GPU compute capability {devices[0].get('compute_capability') if devices else '?'}: "
              "no mixed-input GEMM, the packed prefill checks below compare the dequantizing path with itself")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config.json")
        with open(config, "w") as f:
            json.dump(MIXED_CONFIG, f)
        model = os.path.join(tmp, "mixed")
        r = run("synth", "--config", config, "--dtype", "f16", "--seed", "3", "-o", model)
        check("synth the mixed-GEMM model", r.returncode == 0, r.stderr.strip()[-400:])
        if r.returncode != 0:
            return
        id_args = ["--ids", *[str(i) for i in ids]]  # (stories260K's tokenizer only to load: ids given)

        def model_logits(device, precision, env):
            out = os.path.join(tmp, f"{device}_{precision}_{'_'.join(env.values())}.f32")
            r = run_env(env, "logits", model, "--tokenizer", TOKENIZER, *id_args, "--weights", precision, "--kv", "f16", "--device", device,
                        "-t", "2", "-o", out)
            if r.returncode != 0:
                check(f"logits {precision} on {device} {env}", False, r.stderr.strip()[-400:])
                return None, ""
            return read_f32(out), json.loads(r.stdout.strip().splitlines()[-1]).get("device", "")

        for precision in ["int4-g128", "int4-g64", "int8"]:
            cpu, _ = model_logits("cpu", precision, {})
            mixed, mixed_desc = model_logits("cuda", precision, {"EAQ_CUDA_PACKED_PREFILL": "mixed"})
            dequant, dequant_desc = model_logits("cuda", precision, {"EAQ_CUDA_PACKED_PREFILL": "dequant"})
            if cpu is None or mixed is None or dequant is None:
                continue
            if hopper:
                check(f"{precision}: the default prefill takes the mixed-input GEMM",
                      "prefill of packed weights: CUTLASS mixed-input GEMM" in mixed_desc, mixed_desc)
            check(f"{precision}: EAQ_CUDA_PACKED_PREFILL=dequant dequantizes",
                  "prefill of packed weights: f16 slices + cuBLAS" in dequant_desc, dequant_desc)
            same = max(abs(a - b) for a, b in zip(mixed, dequant))
            check(f"{precision}: mixed-input GEMM == dequantizing path, every position's logits bit for bit",
                  same == 0.0 and len(mixed) == len(dequant) == len(ids) * MIXED_CONFIG["vocab_size"],
                  f"max |Δ| = {same:.3g}")
            diff = max(abs(a - b) for a, b in zip(mixed, cpu))
            scale = max(abs(a) for a in cpu)
            check(f"{precision}: mixed-input GEMM prefill vs cpu max |Δ| < 5e-2", diff < 5e-2,
                  f"max |Δ| = {diff:.3g} (max |logit| {scale:.3g})")
            if precision.startswith("int4"):
                # By default the GEMM adds o_proj/down into the residual stream (beta = 1); with
                # EAQ_CUDA_PREFILL_RESIDUAL_GEMM=0 the next norm adds them: the same f32 sum x + (W x').
                apart, _ = model_logits("cuda", precision, {"EAQ_CUDA_PREFILL_RESIDUAL_GEMM": "0"})
                if apart is not None:
                    same = max(abs(a - b) for a, b in zip(apart, dequant))
                    check(f"{precision}: with EAQ_CUDA_PREFILL_RESIDUAL_GEMM=0 == dequantizing path bit for bit",
                          same == 0.0 and len(apart) == len(dequant), f"max |Δ| = {same:.3g}")
        r = run_env({"EAQ_CUDA_PACKED_PREFILL": "int4"}, "logits", model, "--tokenizer", TOKENIZER, *id_args, "--weights", "int8", "--device",
                    "cuda", "-o", os.path.join(tmp, "bad.f32"))
        check("EAQ_CUDA_PACKED_PREFILL=int4 fails naming the value",
              r.returncode != 0 and "EAQ_CUDA_PACKED_PREFILL='int4'" in r.stderr, r.stderr.strip()[-300:])


if __name__ == "__main__":
    sys.exit(main())
