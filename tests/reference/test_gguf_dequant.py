#!/usr/bin/env python3
"""Live reference test: eaq's GGUF dequantization and quantizers against the `gguf` package.

1. For every type F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, random
   tensors are written into a GGUF with gguf.GGUFWriter: floats quantized by gguf.quants.quantize
   where the package can quantize the type, and random block bytes (f16 scale fields replaced by
   finite random f16 values) for every quantized type. `eaq tensor FILE NAME --f32-out OUT` must
   give gguf.quants.dequantize's float32 values bit for bit.
2. eaq's quantizers (q8_0, q4_0, q4_1, q5_0, q5_1, via tests/tools/gguf_reference_driver) must
   give gguf.quants.quantize's bytes exactly, on random data and on edge cases (ties, zero and
   constant blocks).
3. A few tensors of each dtype in the real models under models/ (skipped where absent) must
   dequantize bit for bit like gguf.quants.dequantize.

Exit code 77 (skipped) when numpy or gguf is missing.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as Q
except ImportError as e:  # pragma: no cover
    print(f"SKIP: python package missing ({e}); install with: pip install gguf numpy")
    sys.exit(77)

EAQ_BIN = os.environ.get("EAQ_BIN")
EAQ_ROOT = Path(os.environ.get("EAQ_ROOT", Path(__file__).resolve().parents[2]))
EAQ_BUILD = Path(os.environ.get("EAQ_BUILD", EAQ_ROOT / "build"))
DRIVER = EAQ_BUILD / "tests" / "tools" / "gguf_reference_driver"
SEED = int(os.environ.get("EAQ_TEST_SEED", "20240611"))

# Byte offsets of the f16 fields inside one block of each quantized type (ggml-common.h).
F16_FIELDS = {
    Q.Q8_0: [0], Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2],
    Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}
QUANTIZABLE = [Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1]
ALL_TYPES = [Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1,
             Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K]

failures = []


def check(ok, message):
    if ok:
        print(f"ok    {message}")
    else:
        print(f"FAIL  {message}")
        failures.append(message)


def random_finite_f16(rng, n):
    """Finite f16 values across the whole exponent range (subnormals included), random signs."""
    bits = rng.integers(0, 0x7c00, size=n, dtype=np.uint16)  # below the inf/NaN exponent
    bits |= (rng.integers(0, 2, size=n, dtype=np.uint16) << 15).astype(np.uint16)
    return bits


def random_blocks(rng, qtype, n_blocks):
    """Random block bytes with every f16 field replaced by a finite random f16."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for offset in F16_FIELDS[qtype]:
        raw[:, offset:offset + 2] = random_finite_f16(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw


def random_weights(rng, shape):
    """Weights with per-row scales spanning several decades, some outliers and zero blocks."""
    x = rng.standard_normal(shape).astype(np.float32)
    x *= (10.0 ** rng.uniform(-4, 2, size=(shape[0], 1))).astype(np.float32)
    x.reshape(-1)[rng.integers(0, x.size, size=max(1, x.size // 97))] *= np.float32(40)
    x[0, :32] = 0  # an all-zero block
    x[0, 32:64] = np.float32(0.375)  # a constant block
    return x


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def eaq_dequantize(gguf_path, name, tmp):
    out = Path(tmp) / "out.f32"
    run([EAQ_BIN, "tensor", str(gguf_path), name, "--f32-out", str(out)])
    return np.fromfile(out, dtype="<f4")


def compare_bits(expected, got, what):
    expected = np.ascontiguousarray(expected, dtype=np.float32).reshape(-1)
    if got.size != expected.size:
        check(False, f"{what}: eaq gave {got.size} values, gguf {expected.size}")
        return
    diff = np.nonzero(expected.view(np.uint32) != got.view(np.uint32))[0]
    detail = ""
    if diff.size:
        i = diff[0]
        detail = (f": {diff.size} of {expected.size} differ, first at {i}: "
                  f"eaq {got[i]!r} (0x{got.view(np.uint32)[i]:08x}) vs gguf {expected[i]!r} "
                  f"(0x{expected.view(np.uint32)[i]:08x})")
    check(diff.size == 0, f"{what}: {expected.size} values bit-exact{detail}")


def test_dequantize_random(tmp):
    rng = np.random.default_rng(SEED)
    path = Path(tmp) / "random_tensors.gguf"
    writer = gguf.GGUFWriter(str(path), arch="eaqtest")
    cases = []  # (name, qtype, raw bytes as stored)
    for qtype in ALL_TYPES:
        shape = (6, 512)
        if qtype in QUANTIZABLE:
            x = random_weights(rng, shape)
            q = gguf.quants.quantize(x, qtype)
            name = f"quantized.{qtype.name.lower()}"
            if qtype == Q.F32:
                writer.add_tensor(name, q)
            elif qtype == Q.F16:
                writer.add_tensor(name, q)
            else:
                writer.add_tensor(name, q, raw_dtype=qtype)
            cases.append((name, qtype, np.ascontiguousarray(q).view(np.uint8).reshape(-1)))
        name = f"random_bytes.{qtype.name.lower()}"
        if qtype == Q.F32:
            # Every f32 bit pattern passes through unchanged, NaN payloads included.
            raw = rng.integers(0, 2**32, size=shape, dtype=np.uint32).view(np.float32)
            writer.add_tensor(name, raw)
            cases.append((name, qtype, raw.view(np.uint8).reshape(-1)))
        elif qtype in (Q.F16, Q.BF16):
            # All 65536 bit patterns (inf, NaN payloads, subnormals), as a 256 x 256 tensor.
            raw = np.arange(65536, dtype=np.uint32).astype(np.uint16).reshape(256, 256)
            writer.add_tensor(name, raw.view(np.uint8).reshape(256, 512), raw_dtype=qtype)
            cases.append((name, qtype, raw.view(np.uint8).reshape(-1)))
        else:
            block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
            n_blocks = shape[0] * shape[1] // block_size
            raw = random_blocks(rng, qtype, n_blocks).reshape(shape[0], -1)
            writer.add_tensor(name, raw, raw_dtype=qtype)
            cases.append((name, qtype, raw.reshape(-1)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    for name, qtype, raw in cases:
        expected = gguf.quants.dequantize(raw, qtype)
        got = eaq_dequantize(path, name, tmp)
        compare_bits(expected, got, f"dequantize {name} ({qtype.name})")


def edge_case_inputs(rng):
    blocks = []
    blocks.append(np.zeros(32, np.float32))                       # all zero: d = 0, id = 0
    blocks.append(np.full(32, 0.75, np.float32))                  # constant
    blocks.append(np.full(32, -3.0, np.float32))
    blocks.append(np.arange(-16, 16, dtype=np.float32) + 0.5)     # q8_0 ties at .5 (d = 1 when max 127)
    b = np.arange(32, dtype=np.float32) - 15.5
    b[0] = -127.0
    blocks.append(b)
    b = np.linspace(-8, 7, 32, dtype=np.float32)                  # exact q4 grid points
    blocks.append(b)
    b = np.linspace(0, 15, 32, dtype=np.float32)
    blocks.append(b)
    b = rng.standard_normal(32).astype(np.float32)
    b[7] = -np.abs(b).max() * 2                                   # largest magnitude negative
    blocks.append(b)
    b = rng.standard_normal(32).astype(np.float32)
    b[3], b[20] = 5.0, -5.0                                       # tie in |max|: first one wins
    blocks.append(b)
    blocks.append((rng.standard_normal(32) * 1e-6).astype(np.float32))  # f16 subnormal scales
    blocks.append((rng.standard_normal(32) * 6e3).astype(np.float32))   # near the f16 limit
    blocks.append(rng.integers(-8, 8, 32).astype(np.float32))
    blocks.append(rng.integers(0, 32, 32).astype(np.float32) * np.float32(0.125))
    return np.stack(blocks)  # one 32-weight block per row


def test_quantizers(tmp):
    if not DRIVER.exists():
        check(False, f"quantizers: the test driver {DRIVER} is missing; build the target "
                     "gguf_reference_driver")
        return
    rng = np.random.default_rng(SEED + 1)
    inputs = {
        "random": random_weights(rng, (64, 256)),
        "uniform": rng.uniform(-1, 1, size=(32, 256)).astype(np.float32),
        "edge_cases": edge_case_inputs(rng),
    }
    for qtype in (Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1):
        for label, x in inputs.items():
            src = Path(tmp) / "in.f32"
            dst = Path(tmp) / "out.bin"
            x.astype("<f4").tofile(src)
            run([str(DRIVER), "quantize", qtype.name.lower(), str(src), str(dst)])
            got = np.fromfile(dst, dtype=np.uint8)
            expected = np.ascontiguousarray(gguf.quants.quantize(x, qtype)).view(np.uint8).reshape(-1)
            same = got.size == expected.size and np.array_equal(got, expected)
            detail = ""
            if not same and got.size == expected.size:
                i = int(np.nonzero(got != expected)[0][0])
                _, type_size = gguf.GGML_QUANT_SIZES[qtype]
                detail = f": first difference in block {i // type_size}, byte {i % type_size}"
            check(same, f"quantize {label} {x.shape} to {qtype.name}: bytes equal gguf.quants.quantize{detail}")


def test_real_models(tmp):
    models = [EAQ_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf",
              EAQ_ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"]
    for model in models:
        if not model.exists():
            print(f"skip  real model {model} (absent; scripts/fetch_models.sh downloads it)")
            continue
        reader = gguf.GGUFReader(str(model))
        by_type = {}
        for t in reader.tensors:
            by_type.setdefault(t.tensor_type, []).append(t)
        for qtype, tensors in sorted(by_type.items()):
            # The smallest and the largest under ~8M elements (keeps the test fast and small).
            tensors = sorted(tensors, key=lambda t: t.n_elements)
            capped = [t for t in tensors if t.n_elements <= 8_000_000] or tensors[:1]
            picks = {capped[0].name: capped[0], capped[-1].name: capped[-1]}
            for t in picks.values():
                expected = gguf.quants.dequantize(t.data, qtype)
                got = eaq_dequantize(model, t.name, tmp)
                compare_bits(expected, got, f"{model.name}: {t.name} ({qtype.name})")


def main():
    if not EAQ_BIN:
        print("FAIL: EAQ_BIN is not set (ctest sets it to the eaq binary)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        test_dequantize_random(tmp)
        test_quantizers(tmp)
        test_real_models(tmp)
    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
