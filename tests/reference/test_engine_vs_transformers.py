#!/usr/bin/env python3
"""Live check of the engine golden fixtures (tests/golden/engine) against HF transformers, and of
`eaq generate` against transformers on stories260K. Needs torch + transformers (scripts/setup.sh
--references); exits 77 (skipped) without them.

1. Each committed fixture is recomputed by the installed transformers from its committed
   config.json (and config_hub_style.json) + model.safetensors: prompt logits within 1e-4, the
   same greedy tokens. This catches a transformers release that changes the reference (e.g. the
   sliding-window boundary) and a fixture that no longer matches its weights.
2. stories260K: the llama2.c checkpoint is converted to a LlamaForCausalLM (tools/
   convert_llama2c_to_hf.py) and transformers' 64 greedy tokens after "Once upon a time" are
   compared with the committed ones and, when EAQ_BIN exists, with `eaq generate --temp 0`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig
except ImportError as exc:
    print(f"SKIP: {exc} (install the references with scripts/setup.sh --references)")
    sys.exit(77)

ROOT = Path(os.environ.get("EAQ_ROOT", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("EAQ_SHARED", ROOT.parent / "shared"))
FIXTURES = ROOT / "tests" / "golden" / "engine"
LOGIT_TOLERANCE = 1e-4  # same fp32 arithmetic, possibly another torch build / thread count

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def read_f32(fixture: Path, name: str) -> np.ndarray:
    spec = json.loads((fixture / "meta.json").read_text())["arrays"][name]
    return np.fromfile(fixture / name, dtype="<f4").reshape(spec["shape"])


def greedy(model, prompt_ids: list[int], n_new: int) -> list[int]:
    cfg = GenerationConfig(do_sample=False, max_new_tokens=n_new, eos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids]), generation_config=cfg,
                             attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long))
    return out[0, len(prompt_ids):].tolist()


def logits_of(model, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def check_hf_fixture(fixture: Path) -> None:
    prompt_ids = json.loads((fixture / "prompt_ids.json").read_text())
    expected_ids = json.loads((fixture / "greedy_ids.json").read_text())["ids"]
    expected_logits = read_f32(fixture, "prompt_logits.bin")
    hub_cfg = json.loads((fixture / "config_hub_style.json").read_text())
    hub_cfg.pop("transformers_version", None)
    for label, config in (("config.json", None), ("config_hub_style.json", AutoConfig.for_model(**hub_cfg))):
        kwargs = {"config": config} if config is not None else {}
        model = AutoModelForCausalLM.from_pretrained(fixture, attn_implementation="eager",
                                                     dtype=torch.float32, **kwargs).eval()
        diff = float(np.abs(logits_of(model, prompt_ids) - expected_logits).max())
        check(diff < LOGIT_TOLERANCE, f"{fixture.name} ({label}): prompt logits max |d| {diff:.2e}")
        ids = greedy(model, prompt_ids, len(expected_ids))
        check(ids == expected_ids, f"{fixture.name} ({label}): {len(expected_ids)} greedy tokens")


def check_stories260k() -> None:
    fixture = FIXTURES / "stories260K"
    checkpoint = SHARED / "models" / "stories260K" / "stories260K.bin"
    tokenizer = SHARED / "models" / "stories260K" / "tok512.bin"
    if not checkpoint.exists() or not tokenizer.exists():
        print(f"skip stories260K: {checkpoint} or {tokenizer} missing")
        return
    sys.path.insert(0, str(ROOT / "tools"))
    import convert_llama2c_to_hf as convert

    header, weights = convert.read_checkpoint(checkpoint)
    vocab, scores = convert.read_tokenizer(tokenizer, header["vocab_size"])
    prompt_ids = convert.run_c_encode(vocab, scores, convert.PROMPT_TEXT)
    check(prompt_ids == json.loads((fixture / "prompt_ids.json").read_text()),
          f"stories260K: run.c encoding of {convert.PROMPT_TEXT!r} = {prompt_ids}")
    model = convert.to_hf_model(header, weights)
    diff = float(np.abs(logits_of(model, prompt_ids) - read_f32(fixture, "prompt_logits.bin")).max())
    check(diff < LOGIT_TOLERANCE, f"stories260K: prompt logits max |d| {diff:.2e}")
    hf_ids = greedy(model, prompt_ids, convert.GREEDY_TOKENS)
    expected = json.loads((fixture / "greedy_ids.json").read_text())["ids"]
    check(hf_ids == expected, f"stories260K: transformers' {len(hf_ids)} greedy tokens = fixture")

    eaq = os.environ.get("EAQ_BIN")
    if not eaq or not Path(eaq).exists():
        print("skip eaq generate: EAQ_BIN not set or not built")
        return
    cmd = [eaq, "generate", str(checkpoint), "--tokenizer", str(tokenizer), "-p",
           convert.PROMPT_TEXT, "-n", str(convert.GREEDY_TOKENS), "--temp", "0", "--ignore-eos",
           "--json", "-t", "1"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        check(False, f"eaq generate exited {run.returncode}: {run.stderr.strip()[-500:]}")
        return
    result = json.loads(run.stdout.strip().splitlines()[-1])
    check(result.get("prompt_tokens") == len(prompt_ids),
          f"eaq generate: {result.get('prompt_tokens')} prompt tokens, run.c encodes {len(prompt_ids)}")
    eaq_ids = result.get("tokens")
    first_diff = next((i for i, (a, b) in enumerate(zip(eaq_ids or [], hf_ids)) if a != b), None)
    check(eaq_ids == hf_ids, f"eaq generate: 64 greedy tokens = transformers "
          f"(first difference at {first_diff}, eaq {len(eaq_ids or [])} tokens)")


def main() -> int:
    torch.set_num_threads(1)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    fixtures = sorted(p for p in FIXTURES.iterdir() if (p / "model.safetensors").exists())
    if not fixtures:
        print(f"FAIL: no fixtures under {FIXTURES}")
        return 1
    for fixture in fixtures:
        check_hf_fixture(fixture)
    check_stories260k()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
