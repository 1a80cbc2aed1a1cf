#!/usr/bin/env python3
"""`eaq quantize --scheme q8_0|q4_0|q4_1` against the gguf package's quantizer (issue 5).

The embedded SmolLM2 GGUF (Q4_1 + Q8_0) is quantized by eaq; for each 2-D tensor of the output
(token_embd, and every matrix of blocks 0 and 29) the input tensor is decoded with
gguf.quants.dequantize and re-quantized with gguf.quants.quantize to the type eaq wrote; the bytes
must be identical. Also checks the dtypes the scheme promises (4-bit schemes keep the embedding at
q8_0) and general.file_type. Exits 77 if gguf/numpy or the model are missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as Q
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
SCHEMES = {"q8_0": (Q.Q8_0, Q.Q8_0, 7), "q4_0": (Q.Q4_0, Q.Q8_0, 2), "q4_1": (Q.Q4_1, Q.Q8_0, 3)}


def checked(name):
    return name == "token_embd.weight" or name.startswith("blk.0.") or name.startswith("blk.29.")


def main():
    if not os.path.exists(MODEL):
        print(f"SKIP: {MODEL} missing")
        return 77
    source = {t.name: t for t in gguf.GGUFReader(MODEL).tensors}
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for scheme, (matrix_type, embedding_type, file_type) in SCHEMES.items():
            out = os.path.join(tmp, f"{scheme}.gguf")
            subprocess.run([EAQ, "quantize", MODEL, "--scheme", scheme, "-o", out], check=True, capture_output=True)
            reader = gguf.GGUFReader(out)
            ft = reader.fields["general.file_type"]
            if int(ft.parts[ft.data[0]][0]) != file_type:
                print(f"FAIL {scheme}: general.file_type {ft.parts[ft.data[0]][0]} != {file_type}")
                failures += 1
            n = 0
            for t in reader.tensors:
                if len(t.shape) != 2:
                    continue
                want_type = embedding_type if t.name in ("token_embd.weight", "output.weight") else matrix_type
                if t.tensor_type != want_type:
                    print(f"FAIL {scheme}: {t.name} is {t.tensor_type.name}, expected {want_type.name}")
                    failures += 1
                if not checked(t.name):
                    continue
                s = source[t.name]
                values = gguf.quants.dequantize(s.data, s.tensor_type).astype(np.float32)
                expected = gguf.quants.quantize(values, t.tensor_type)
                got = np.asarray(t.data)
                if expected.tobytes() != got.tobytes():
                    diff = np.flatnonzero(expected.reshape(-1) != got.reshape(-1))
                    print(f"FAIL {scheme}: {t.name} bytes differ at {len(diff)} positions (first {diff[:5]})")
                    failures += 1
                n += 1
            print(f"{scheme}: {n} tensors byte-identical to gguf.quants.quantize" if failures == 0 else f"{scheme}: checked {n}")
    print("PASS" if failures == 0 else f"FAIL ({failures})")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
