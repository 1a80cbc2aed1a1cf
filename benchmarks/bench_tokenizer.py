#!/usr/bin/env python3
"""Tokenizer throughput: eaq's encoder beside HF `tokenizers` single-thread encode on the same
text in the same run (not a test). The text is the conformance corpus
(tools/make_tokenizer_corpus.py), repeated to --mbytes. eaq's time is what `eaq tokenize --jsonl
--report-time` spends inside encode (file loading and JSON I/O excluded); HF's is
Tokenizer.encode per document with RAYON_NUM_THREADS=1 (encode_batch not used). Both start with
cold word caches.

    EAQ_BIN=build/eaq python3 benchmarks/bench_tokenizer.py [--mbytes 2] [--tokenizers qwen3,llama3]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_tokenizer_corpus import build_corpus  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mbytes", type=float, default=2.0)
    parser.add_argument("--tokenizers", default="qwen3,llama3,llama2")
    args = parser.parse_args()
    docs = build_corpus(SHARED, ROOT)
    # Repeat with a distinguishing suffix so that whole documents are not trivially cached.
    text_docs, total, k = [], 0, 0
    while total < args.mbytes * 1e6:
        d = docs[k % len(docs)] + f" {k}"
        text_docs.append(d)
        total += len(d.encode("utf-8"))
        k += 1
    tmp = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8")
    for d in text_docs:
        tmp.write(json.dumps(d, ensure_ascii=False) + "\n")
    tmp.close()
    print(f"text: {len(text_docs)} documents, {total / 1e6:.2f} MB; HF tokenizers single thread")
    print(f"{'tokenizer':<10} {'eaq MB/s':>9} {'HF MB/s':>9} {'ratio':>6}")
    for name in args.tokenizers.split(","):
        path = os.path.join(SHARED, "tokenizers", name, "tokenizer.json")
        tok = Tokenizer.from_file(path)
        start = time.perf_counter()
        for d in text_docs:
            tok.encode(d)
        hf_s = time.perf_counter() - start
        out = subprocess.run([EAQ, "tokenize", "--tokenizer", path, "--jsonl", "--report-time", "--file", tmp.name],
                             capture_output=True, text=True, check=True)
        m = re.search(r"encoded_bytes=(\d+) encode_s=([0-9.]+)", out.stderr)
        eaq_bytes, eaq_s = int(m.group(1)), float(m.group(2))
        eaq_mbs, hf_mbs = eaq_bytes / eaq_s / 1e6, total / hf_s / 1e6
        print(f"{name:<10} {eaq_mbs:9.2f} {hf_mbs:9.2f} {eaq_mbs / hf_mbs:6.2f}x")
    os.unlink(tmp.name)


if __name__ == "__main__":
    main()
