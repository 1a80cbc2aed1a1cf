#!/usr/bin/env python3
"""Tokenizer conformance corpus: documents from ../shared/datasets (code, math, prose) with the
hand-written hard cases of tests/data/tokenizer/hard_cases.jsonl (CJK, emoji/ZWJ, combining marks,
Arabic, whitespace runs, digit runs, special tokens) spliced in at random positions, plus every
hard case on its own. Deterministic (seeded). Used by tests/reference/test_tokenizer_conformance.py
and benchmarks/bench_tokenizer.py.

    python3 tools/make_tokenizer_corpus.py --out corpus.jsonl [--bytes 262144]
"""
import argparse
import csv
import json
import os
import random


def read_hard_cases(root):
    path = os.path.join(root, "tests", "data", "tokenizer", "hard_cases.jsonl")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip() and not line.startswith("#")]


def dataset_documents(shared):
    d = os.path.join(shared, "datasets")
    sources = []

    def jsonl(path, keys):
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                out.append("\n".join(str(rec[k]) for k in keys if k in rec))
        return out

    sources.append(jsonl(os.path.join(d, "mbpp", "mbpp.jsonl"), ["text", "code", "test_list"]))
    sources.append(jsonl(os.path.join(d, "gsm8k", "test.jsonl"), ["question", "answer"]))
    sources.append(jsonl(os.path.join(d, "math500", "test.jsonl"), ["problem", "solution"]))
    sources.append(jsonl(os.path.join(d, "arc", "ARC-Challenge-Test.jsonl"), ["question"]))
    with open(os.path.join(d, "truthfulqa", "TruthfulQA.csv"), encoding="utf-8") as f:
        sources.append([" | ".join(row) for row in csv.reader(f)])
    with open(os.path.join(d, "hellaswag", "hellaswag_val_full.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
        sources.append(["\n".join(lines[i:i + 12]) for i in range(0, min(len(lines), 12000), 12)])
    mmlu = os.path.join(d, "mmlu", "test")
    docs = []
    for name in sorted(os.listdir(mmlu))[:20]:
        with open(os.path.join(mmlu, name), encoding="utf-8") as f:
            text = f.read()
        docs += [text[i:i + 1500] for i in range(0, min(len(text), 15000), 1500)]
    sources.append(docs)
    return sources


def build_corpus(shared, root, target_bytes=262144, seed=1234):
    rng = random.Random(seed)
    hard = read_hard_cases(root)
    sources = [s for s in dataset_documents(shared) if s]
    docs = list(hard)
    total = sum(len(h.encode("utf-8")) for h in hard)
    i = 0
    while total < target_bytes:
        source = sources[i % len(sources)]
        doc = source[rng.randrange(len(source))]
        for _ in range(rng.randrange(3)):  # splice hard cases into real text
            pos = rng.randrange(len(doc) + 1)
            doc = doc[:pos] + rng.choice(hard) + doc[pos:]
        docs.append(doc)
        total += len(doc.encode("utf-8"))
        i += 1
    return docs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--bytes", type=int, default=262144)
    parser.add_argument("--shared", default=os.environ.get("EAQ_SHARED", os.path.join(root, "..", "shared")))
    args = parser.parse_args()
    docs = build_corpus(args.shared, root, args.bytes)
    with open(args.out, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {sum(len(d.encode('utf-8')) for d in docs)} bytes → {args.out}")


if __name__ == "__main__":
    main()
