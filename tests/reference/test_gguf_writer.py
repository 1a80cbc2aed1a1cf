#!/usr/bin/env python3
"""Live reference test: GGUF files written by eaq's GgufWriter are read back by gguf.GGUFReader
with the same metadata (every value type, arrays of numbers and strings, extremes, unicode) and
the same tensors (name, dtype, shape, bytes, aligned offsets), with the default and a custom
general.alignment.

eaq writes through tests/tools/gguf_reference_driver (write-gguf SPEC.json OUT.gguf); the spec and
the tensor bytes are generated here, independently of eaq. Exit code 77 when numpy/gguf is missing.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as Q
    from gguf import GGUFValueType as V
except ImportError as e:  # pragma: no cover
    print(f"SKIP: python package missing ({e}); install with: pip install gguf numpy")
    sys.exit(77)

EAQ_ROOT = Path(os.environ.get("EAQ_ROOT", Path(__file__).resolve().parents[2]))
EAQ_BUILD = Path(os.environ.get("EAQ_BUILD", EAQ_ROOT / "build"))
DRIVER = EAQ_BUILD / "tests" / "tools" / "gguf_reference_driver"

failures = []


def check(ok, message):
    print(f"{'ok  ' if ok else 'FAIL'}  {message}")
    if not ok:
        failures.append(message)


TYPE_NAMES = {V.UINT8: "uint8", V.INT8: "int8", V.UINT16: "uint16", V.INT16: "int16",
              V.UINT32: "uint32", V.INT32: "int32", V.FLOAT32: "float32", V.BOOL: "bool",
              V.STRING: "string", V.UINT64: "uint64", V.INT64: "int64", V.FLOAT64: "float64"}
NUMPY_OF = {V.UINT8: np.uint8, V.INT8: np.int8, V.UINT16: np.uint16, V.INT16: np.int16,
            V.UINT32: np.uint32, V.INT32: np.int32, V.UINT64: np.uint64, V.INT64: np.int64,
            V.FLOAT32: np.float32, V.FLOAT64: np.float64}


def metadata_cases(rng):
    """(key, value type, element type or None, python value) for every GGUF value type."""
    cases = [
        ("general.architecture", V.STRING, None, "eaqtest"),
        ("test.u8", V.UINT8, None, 255), ("test.i8", V.INT8, None, -128),
        ("test.u16", V.UINT16, None, 65535), ("test.i16", V.INT16, None, -32768),
        ("test.u32", V.UINT32, None, 4294967295), ("test.i32", V.INT32, None, -2147483648),
        ("test.u64", V.UINT64, None, 2**64 - 1), ("test.i64", V.INT64, None, -2**63),
        ("test.f32", V.FLOAT32, None, float(np.float32(3.4028235e38))),
        ("test.f32_subnormal", V.FLOAT32, None, float(np.float32(1e-45))),
        ("test.f32_negative_zero", V.FLOAT32, None, -0.0),
        ("test.f64", V.FLOAT64, None, 2.0**-1074), ("test.f64_pi", V.FLOAT64, None, 3.141592653589793),
        ("test.bool_true", V.BOOL, None, True), ("test.bool_false", V.BOOL, None, False),
        ("test.string_empty", V.STRING, None, ""),
        ("test.string_unicode", V.STRING, None, "héllo ✓ 日本語 🙂\n\t\"quoted\""),
        ("tokenizer.ggml.tokens", V.ARRAY, V.STRING, ["<s>", "</s>", "▁the", "", "🙂", "a b"]),
        ("test.empty_array", V.ARRAY, V.INT32, []),
    ]
    for t in (V.UINT8, V.INT8, V.UINT16, V.INT16, V.UINT32, V.INT32, V.UINT64, V.INT64):
        info = np.iinfo(NUMPY_OF[t])
        values = rng.integers(info.min, info.max, size=17, dtype=NUMPY_OF[t], endpoint=True).tolist()
        values[:2] = [int(info.min), int(info.max)]
        cases.append((f"test.array_{TYPE_NAMES[t]}", V.ARRAY, t, values))
    cases.append(("test.array_float32", V.ARRAY, V.FLOAT32,
                  [float(v) for v in rng.standard_normal(33).astype(np.float32)]))
    cases.append(("test.array_float64", V.ARRAY, V.FLOAT64, [float(v) for v in rng.standard_normal(9)]))
    cases.append(("test.array_bool", V.ARRAY, V.BOOL, [True, False, False, True]))
    return cases


TENSOR_TYPES = [("f32", Q.F32), ("f16", Q.F16), ("bf16", Q.BF16), ("q8_0", Q.Q8_0), ("q4_0", Q.Q4_0),
                ("q4_1", Q.Q4_1), ("q5_0", Q.Q5_0), ("q5_1", Q.Q5_1), ("q2_k", Q.Q2_K), ("q3_k", Q.Q3_K),
                ("q4_k", Q.Q4_K), ("q5_k", Q.Q5_K), ("q6_k", Q.Q6_K), ("q8_k", Q.Q8_K), ("i8", Q.I8),
                ("i16", Q.I16), ("i32", Q.I32), ("i64", Q.I64), ("f64", Q.F64)]


def tensor_cases(rng, tmp):
    """Tensors of every dtype with 1 to 4 dimensions (outermost first) and random bytes."""
    shapes = [(256,), (3, 512), (2, 3, 256), (2, 1, 2, 256), (5, 768)]
    cases = []
    for i, (eaq_name, qtype) in enumerate(TENSOR_TYPES):
        shape = shapes[i % len(shapes)]
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        n_bytes = int(np.prod(shape)) // block_size * type_size
        data = rng.integers(0, 256, size=n_bytes, dtype=np.uint8).tobytes()
        path = Path(tmp) / f"tensor_{i}.bin"
        path.write_bytes(data)
        cases.append({"name": f"blk.{i}.{eaq_name}.weight", "dtype": eaq_name, "shape": list(shape),
                      "data_file": str(path), "qtype": qtype, "bytes": data})
    return cases


def spec_entry(key, vtype, element_type, value):
    if vtype == V.ARRAY:
        return {"key": key, "type": "array", "element_type": TYPE_NAMES[element_type], "value": value}
    return {"key": key, "type": TYPE_NAMES[vtype], "value": value}


def same_value(vtype, expected, got):
    if vtype == V.FLOAT32:
        return np.float32(expected).tobytes() == np.float32(got).tobytes()
    if vtype == V.FLOAT64:
        return np.float64(expected).tobytes() == np.float64(got).tobytes()
    if vtype == V.BOOL:
        return bool(expected) == bool(got)
    return expected == got


def run_case(tmp, label, alignment):
    rng = np.random.default_rng(1234 + (alignment or 0))
    cases = metadata_cases(rng)
    if alignment is not None:
        cases.insert(1, ("general.alignment", V.UINT32, None, alignment))
    tensors = tensor_cases(rng, tmp)
    nested = {"key": "test.nested_array", "type": "array", "element_type": "array",
              "value": [{"element_type": "int16", "value": [1, -2, 3]},
                        {"element_type": "int16", "value": []}]}
    spec = {"metadata": [spec_entry(*c) for c in cases] + [nested],
            "tensors": [{k: t[k] for k in ("name", "dtype", "shape", "data_file")} for t in tensors]}
    spec_path = Path(tmp) / f"{label}.json"
    out = Path(tmp) / f"{label}.gguf"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([str(DRIVER), "write-gguf", str(spec_path), str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        check(False, f"{label}: eaq failed to write the GGUF: {proc.stderr.strip()}")
        return

    reader = gguf.GGUFReader(str(out))
    fields = {name: f for name, f in reader.fields.items() if not name.startswith("GGUF.")}
    check(list(fields) == [c[0] for c in cases] + ["test.nested_array"],
          f"{label}: metadata keys and order read back ({len(fields)} keys)")
    for key, vtype, element_type, value in cases:
        field = reader.fields.get(key)
        if field is None:
            check(False, f"{label}: {key} missing")
            continue
        if vtype == V.ARRAY and not value:
            # GGUFReader lists no element type for an empty array; read the raw one (parts: key
            # length, key, value type, element type, count).
            ok = field.types[0] == V.ARRAY and int(field.parts[3][0]) == element_type and field.contents() == []
        elif vtype == V.ARRAY:
            ok = field.types == [V.ARRAY, element_type]
            got = field.contents()
            ok = ok and len(got) == len(value) and all(
                same_value(element_type, e, g) for e, g in zip(value, got))
        else:
            ok = field.types == [vtype] and same_value(vtype, value, field.contents())
        check(ok, f"{label}: {key} ({TYPE_NAMES.get(vtype, 'array')}"
                  f"{'' if element_type is None else ' of ' + TYPE_NAMES[element_type]}) read back equal")
    nested_field = reader.fields.get("test.nested_array")
    check(nested_field is not None and nested_field.types[:2] == [V.ARRAY, V.ARRAY],
          f"{label}: nested array read back as an array of arrays")

    expected_alignment = alignment or 32
    check(reader.alignment == expected_alignment, f"{label}: alignment {reader.alignment} == {expected_alignment}")
    check(len(reader.tensors) == len(tensors), f"{label}: {len(reader.tensors)} tensors read back")
    for t, got in zip(tensors, reader.tensors):
        ok = (got.name == t["name"] and got.tensor_type == t["qtype"]
              and list(got.shape) == list(reversed(t["shape"]))  # GGUF lists innermost first
              and got.data_offset % expected_alignment == 0
              and np.ascontiguousarray(got.data).tobytes() == t["bytes"])
        check(ok, f"{label}: tensor {t['name']} ({got.tensor_type.name}, ne={[int(d) for d in got.shape]}) "
                  f"name, type, shape, alignment and bytes equal")


def main():
    if not DRIVER.exists():
        print(f"FAIL: the test driver {DRIVER} is missing; build the target gguf_reference_driver")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        run_case(tmp, "default_alignment", None)
        run_case(tmp, "alignment_64", 64)
    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
