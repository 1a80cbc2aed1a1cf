#!/usr/bin/env python3
"""Token ids of `eaq tokenize --jsonl` against reference tokenizers, live, on a ≥ 200 KB corpus
(tools/make_tokenizer_corpus.py: ../shared/datasets text + tests/data/tokenizer/hard_cases.jsonl).

References:
- ../shared/tokenizers/{qwen3,llama3,llama2}/tokenizer.json: HF `tokenizers`
  Tokenizer.from_file(...).encode(text) (add_special_tokens=True, as eaq's default).
- ../shared/tokenizers/gpt2 (encoder.json + vocab.bpe): HF `tokenizers` BPE.from_file with the
  ByteLevel pre-tokenizer and <|endoftext|> as a special added token (what GPT2TokenizerFast does).
- SmolLM2 GGUF (tokenizer.ggml.model gpt2, pre "smollm"): built from the GGUF's own tokens and
  merges (gguf.GGUFReader) as transformers' GGUF integration does (BPE(vocab, merges), ByteLevel),
  with llama.cpp's "smollm" pre-split (\\p{N} digits, then the GPT-2 regex) = Digits(individual) +
  ByteLevel(use_regex); control/user-defined tokens (token_type 3/4) as added tokens.
- Gemma 3 GGUF (tokenizer.ggml.model llama): HF BPE with byte_fallback whose merges are generated
  from the pieces and scores exactly as transformers' convert_slow_tokenizer.generate_merges does
  (every split of a piece into two pieces, ranked by the piece's score), Replace(" ", "▁")
  normalizer, BOS template; control/user-defined tokens as added tokens.
- stories260K tok512.bin: a Python port of llama2.c run.c's encode() (BOS, " " dummy prefix,
  code point lookup with byte fallback id = byte + 3, merge the highest-scoring pair).

Exit 0 when every tokenizer has 0 mismatches; 1 otherwise; 77 when `tokenizers` is missing.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import tokenizers
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
except ImportError:
    print("SKIP: the Python package `tokenizers` is not installed (pip install tokenizers)")
    sys.exit(77)

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED = os.environ.get("EAQ_SHARED", os.path.join(ROOT, "..", "shared"))
EAQ = os.environ.get("EAQ_BIN", os.path.join(ROOT, "build", "eaq"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_tokenizer_corpus import build_corpus  # noqa: E402


def gguf_tokenizer_fields(path):
    from gguf import GGUFReader
    r = GGUFReader(path)

    def field(name):
        f = r.fields.get(name)
        if f is None:
            return None
        if len(f.data) == 1 and f.types[0] != 9:  # scalar
            v = f.parts[f.data[0]]
            return bytes(v).decode("utf-8") if f.types[0] == 8 else v[0].item()
        if f.types[-1] == 8:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    return field


def reference_smollm_gguf(path):
    field = gguf_tokenizer_fields(path)
    tokens, merges, types = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.merges"), field("tokenizer.ggml.token_type")
    assert field("tokenizer.ggml.pre") == "smollm", field("tokenizer.ggml.pre")
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges], fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_tokens([AddedToken(t, special=(ty == 3), normalized=False) for t, ty in zip(tokens, types) if ty in (3, 4)])
    assert not field("tokenizer.ggml.add_bos_token")
    return tok


def reference_gemma_gguf(path):
    field = gguf_tokenizer_fields(path)
    tokens, scores, types = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.scores"), field("tokenizer.ggml.token_type")
    vocab = {t: i for i, t in enumerate(tokens)}
    # transformers convert_slow_tokenizer.generate_merges(vocab, vocab_scores)
    merges = []
    for piece, score in zip(tokens, scores):
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((left, right, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2], reverse=True)
    unk = tokens[field("tokenizer.ggml.unknown_token_id")]
    tok = Tokenizer(models.BPE(vocab, [(a, b) for a, b, _ in merges], unk_token=unk, fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_tokens([AddedToken(t, special=(ty == 3), normalized=False) for t, ty in zip(tokens, types) if ty in (3, 4)])
    assert not field("tokenizer.ggml.add_space_prefix")
    bos = tokens[field("tokenizer.ggml.bos_token_id")]
    if field("tokenizer.ggml.add_bos_token"):
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, vocab[bos])])
    return tok


class Llama2cRunC:
    """llama2.c run.c encode(), ported line by line."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        (self.max_len,) = struct.unpack_from("<i", data, 0)
        off, self.pieces, self.scores = 4, [], []
        while off < len(data):
            score, n = struct.unpack_from("<fi", data, off)
            off += 8
            self.pieces.append(data[off:off + n])
            self.scores.append(score)
            off += n
        self.lookup = {}
        for i, p in enumerate(self.pieces):
            self.lookup.setdefault(p, i)  # run.c's bsearch finds the first of duplicates: rare

    def encode(self, text, add_special_tokens=True):
        ids = [1] if add_special_tokens else []
        b = text.encode("utf-8")
        tokens = []
        if b:
            tokens.append(self.lookup[b" "])
        i = 0
        while i < len(b):  # one UTF-8 code point at a time (run.c's str_buffer loop)
            j = i + 1
            while j < len(b) and (b[j] & 0xC0) == 0x80 and j - i < 4:
                j += 1
            cp = b[i:j]
            if cp in self.lookup:
                tokens.append(self.lookup[cp])
            else:
                tokens.extend(x + 3 for x in cp)
            i = j
        while True:
            best, best_id, best_idx = -1e10, -1, -1
            for k in range(len(tokens) - 1):
                m = self.pieces[tokens[k]] + self.pieces[tokens[k + 1]]
                mid = self.lookup.get(m, -1)
                if mid != -1 and self.scores[mid] > best:
                    best, best_id, best_idx = self.scores[mid], mid, k
            if best_idx == -1:
                break
            tokens[best_idx:best_idx + 2] = [best_id]
        return ids + tokens


class HfReference:
    def __init__(self, tok):
        self.tok = tok

    def encode(self, text):
        return self.tok.encode(text).ids


def run_eaq(tokenizer_arg, corpus_path):
    out = subprocess.run([EAQ, "tokenize", "--tokenizer", tokenizer_arg, "--jsonl", "--file", corpus_path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"eaq tokenize failed ({out.returncode}): {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def main():
    if not os.path.exists(EAQ):
        print(f"FAIL: eaq binary not found at {EAQ} (set EAQ_BIN)")
        return 1
    docs = build_corpus(SHARED, ROOT)
    n_bytes = sum(len(d.encode("utf-8")) for d in docs)
    tmp = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8")
    for d in docs:
        tmp.write(json.dumps(d, ensure_ascii=False) + "\n")
    tmp.close()
    tk = os.path.join(SHARED, "tokenizers")
    cases = []
    for name in ("qwen3", "llama3", "llama2"):
        path = os.path.join(tk, name, "tokenizer.json")
        cases.append((name, path, lambda p=path: HfReference(Tokenizer.from_file(p))))

    def gpt2_reference():
        tok = Tokenizer(models.BPE.from_file(os.path.join(tk, "gpt2", "encoder.json"), os.path.join(tk, "gpt2", "vocab.bpe")))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens(["<|endoftext|>"])
        return HfReference(tok)
    cases.append(("gpt2", os.path.join(tk, "gpt2"), gpt2_reference))
    try:
        import gguf  # noqa: F401
        have_gguf = True
    except ImportError:
        have_gguf = False
        print("note: the `gguf` package is missing: GGUF vocabularies not checked")
    models_dir = os.path.join(ROOT, "models")
    smollm = os.path.join(models_dir, "SmolLM2-135M-Instruct.Q4_1.gguf")
    gemma = os.path.join(models_dir, "gemma-3-270m-q4_k_m.gguf")
    if have_gguf and os.path.exists(smollm):
        cases.append(("smollm2-gguf", smollm, lambda: HfReference(reference_smollm_gguf(smollm))))
    if have_gguf and os.path.exists(gemma):
        cases.append(("gemma3-gguf", gemma, lambda: HfReference(reference_gemma_gguf(gemma))))
    stories = os.path.join(SHARED, "models", "stories260K", "tok512.bin")
    if os.path.exists(stories):
        cases.append(("stories260K", stories, lambda: Llama2cRunC(stories)))
    only = os.environ.get("EAQ_TOKENIZERS")  # e.g. "qwen3,gpt2" to run a subset
    failed = False
    print(f"corpus: {len(docs)} documents, {n_bytes} bytes; tokenizers {tokenizers.__version__}")
    for name, arg, make_reference in cases:
        if only and name not in only.split(","):
            continue
        ref = make_reference()
        got = run_eaq(arg, tmp.name)
        if len(got) != len(docs):
            print(f"{name}: FAIL eaq returned {len(got)} lines for {len(docs)} documents")
            failed = True
            continue
        mismatches, shown, n_tokens = 0, 0, 0
        for doc, ids in zip(docs, got):
            want = ref.encode(doc)
            n_tokens += len(want)
            if ids != want:
                mismatches += 1
                if shown < 3:
                    k = next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), min(len(ids), len(want)))
                    print(f"  {name} mismatch at token {k}: eaq {ids[max(0, k - 3):k + 5]} ref {want[max(0, k - 3):k + 5]}"
                          f" doc {json.dumps(doc[:120], ensure_ascii=False)}")
                    shown += 1
        status = "ok" if mismatches == 0 else "FAIL"
        print(f"{name}: {status} {mismatches} mismatching documents of {len(docs)} ({n_bytes} bytes, {n_tokens} tokens)")
        failed = failed or mismatches > 0
    os.unlink(tmp.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
