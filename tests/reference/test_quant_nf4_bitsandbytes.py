#!/usr/bin/env python3
"""eaq's nf4 against bitsandbytes (issue 5): the same f32 matrix quantized by `eaq quantize
--scheme nf4` (decoded back by `eaq tensor --f32-out`) and by bitsandbytes.functional.quantize_4bit
(quant_type="nf4", blocksize=64, CPU) + dequantize_4bit must give the same values, and bitsandbytes'
code table must equal eaq's codebook (core/eaq_quant_blocks.h, read back through the decoded values).
Exits 77 if bitsandbytes/torch/gguf are missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import gguf
    import torch
    import bitsandbytes.functional as F
except ImportError as e:
    print(f"SKIP: {e} (pip install bitsandbytes)")
    sys.exit(77)

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))


def main():
    rng = np.random.default_rng(5)
    rows, cols = 48, 256
    w = (rng.standard_normal((rows, cols)) * rng.uniform(0.01, 2.0, (rows, 1))).astype(np.float32)
    w[3, 17] = 40.0  # an outlier
    w[5, :64] = 0.0  # an all-zero block
    # Every code value, exactly, in one block (absmax 1): the decoded values are the codebook.
    code = F.get_4bit_type("nf4", device="cpu").numpy().astype(np.float32)
    w[7, :64] = np.resize(code, 64)
    with tempfile.TemporaryDirectory() as tmp:
        src, out, vals = (os.path.join(tmp, n) for n in ("in.gguf", "nf4.gguf", "vals.f32"))
        writer = gguf.GGUFWriter(src, "llama")
        writer.add_tensor("blk.0.attn_q.weight", w)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        subprocess.run([EAQ, "quantize", src, "--scheme", "nf4", "-o", out], check=True, capture_output=True)
        r = subprocess.run([EAQ, "tensor", out, "blk.0.attn_q.weight", "--f32-out", vals], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr)
            return 1
        eaq_values = np.fromfile(vals, dtype=np.float32).reshape(rows, cols)
    q, state = F.quantize_4bit(torch.from_numpy(w.reshape(-1).copy()), blocksize=64, quant_type="nf4")
    bnb_values = F.dequantize_4bit(q, state).numpy().reshape(rows, cols)
    eaq_code = eaq_values[7, :16]
    code_ok = np.array_equal(eaq_code, code)
    mismatch = np.flatnonzero(eaq_values.reshape(-1) != bnb_values.reshape(-1))
    print(f"bitsandbytes code: {code.tolist()}")
    print(f"codebook equal: {code_ok}; values differing from bitsandbytes: {len(mismatch)} of {w.size}; "
          f"max |Δ| {np.abs(eaq_values - bnb_values).max():.3e}")
    ok = code_ok and len(mismatch) == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
