#!/usr/bin/env python3
"""Golden fixtures for the CPU inference engine, made with HF transformers (PyTorch CPU, fp32).

For each tiny random-init model (llama GQA, llama with linear rope scaling, llama3 rope scaling,
qwen2 with qkv bias, gemma3 with sliding-window layers) this writes tests/golden/engine/<name>/:
the HF config and safetensors weights, a 64-token prompt, the logits at every prompt position, and
32 greedy tokens with their per-step logits and top-2 gaps. stories260K (llama2.c) is made by
tools/convert_llama2c_to_hf.py with the same writer (write_fixture below).

The file formats are described in tests/golden/engine/README.md. Needs torch + transformers
(scripts/setup.sh --references). Usage: python3 tools/make_engine_fixtures.py [--out DIR] [NAME...]
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import (AutoConfig, AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig,
                          GenerationConfig, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tests" / "golden" / "engine"
PROMPT_TOKENS = 64
GREEDY_TOKENS = 32
# A greedy step whose top-2 logit gap is below this could flip under legitimate fp32 reordering
# (the acceptance tolerance on logits is 1e-3), so the prompt seed is advanced until every step
# of the fixture clears it. Recorded in meta.json.
MIN_GREEDY_GAP = 0.01
# A greedy run that repeats one token exercises almost none of the decode path; the prompt seed
# is also advanced until the 32 tokens hold at least this many distinct ids.
MIN_DISTINCT_GREEDY = 8
# The eager attention path is the plain formula (softmax(QK^T*scale + mask) V); sdpa agrees to
# ~1e-6 but eager is the one whose arithmetic is easiest to read when a test fails.
ATTN_IMPLEMENTATION = "eager"


def versions() -> dict:
    return {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


# --------------------------------------------------------------------------------------------
# Model definitions. Sizes are tiny so that the committed weights stay a few hundred KB.
# --------------------------------------------------------------------------------------------

def llama_gqa_config() -> LlamaConfig:
    return LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2)


def llama_linear_rope_config() -> LlamaConfig:
    # DeepSeek-Coder-1.3B: rope_theta 100000, linear scaling factor 4 (positions / 4), MHA, untied.
    return LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
        rms_norm_eps=1e-6, rope_theta=100000.0, rope_scaling={"type": "linear", "factor": 4.0},
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)


def llama3_rope_config() -> LlamaConfig:
    # Llama-3.2 / SmolLM2-style: llama3 frequency-dependent rope scaling, theta 500000, GQA, tied.
    # original_max_position_embeddings 64 (not 32) so that, with head_dim 16 and theta 5e5, the
    # eight rope wavelengths (6.3, 32.5, 169, ...) fall in all three llama3 bands: wavelength < 16
    # kept, 16..64 smoothly interpolated (32.5), > 64 divided by the factor. With 32 the band edges
    # are 8 and 32 and no wavelength lands in the interpolated band.
    return LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)


def qwen2_bias_config() -> Qwen2Config:
    # DeepSeek-R1-Distill-Qwen-1.5B-style: bias on q/k/v (not o), GQA, untied.
    return Qwen2Config(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
        use_sliding_window=False, bos_token_id=1, eos_token_id=2)


def gemma3_sliding_config() -> Gemma3TextConfig:
    # Gemma-3-1B-style, shrunk: 4 query heads over 1 kv head, head_dim 16 != hidden/heads (12),
    # query_pre_attn_scalar 24 != head_dim (so the score scale is 24^-0.5, not 16^-0.5), layers
    # sliding/full/sliding (sliding_window_pattern 2) with a window of 8 < 64 prompt tokens, local
    # rope theta 10000 vs global 1e6, tied embeddings, GeGLU (gelu_pytorch_tanh).
    return Gemma3TextConfig(
        vocab_size=256, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
        rms_norm_eps=1e-6, query_pre_attn_scalar=24, sliding_window=8,
        # Both spellings, consistent: transformers 5 saves layer_types and, beside it, the legacy
        # int as `_sliding_window_pattern` (6 unless given, even when layer_types disagree).
        sliding_window_pattern=2,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_theta=1000000.0, rope_local_base_freq=10000.0, rope_scaling=None,
        final_logit_softcapping=None, attn_logit_softcapping=None,
        hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
        pad_token_id=0, bos_token_id=2, eos_token_id=1)


MODELS = {
    "llama_gqa": (llama_gqa_config, LlamaForCausalLM, 1001, "DEFAULT_INIT"),
    "llama_linear_rope": (llama_linear_rope_config, LlamaForCausalLM, 1002, "DEFAULT_INIT"),
    "llama3_rope": (llama3_rope_config, LlamaForCausalLM, 1003, "TIED_LLAMA_INIT"),
    "qwen2_bias": (qwen2_bias_config, Qwen2ForCausalLM, 1004, "DEFAULT_INIT"),
    "gemma3_sliding": (gemma3_sliding_config, Gemma3ForCausalLM, 1005, "GEMMA3_INIT"),
}


# --------------------------------------------------------------------------------------------
# Initialisation. HF's default (normal std 0.02) gives logits of ~1e-2 spread, against which a
# 1e-3 tolerance means nothing; this init gives O(1) activations and logits with a spread of a
# few units. Every parameter is drawn from one seeded generator, so the result does not depend
# on transformers' own init code.
# --------------------------------------------------------------------------------------------

# Untied llama-family models: the default recipe. Tied models need the layers to outweigh the
# token's own embedding in the residual stream, or the logits (E . h) peak at the current token
# and greedy decoding repeats the last prompt token 32 times, which tests nothing; gemma3 adds
# post-attention/post-ffn norms (so layer outputs are O(1) whatever their weights) and scales
# embeddings by sqrt(hidden): there the embedding is made small, the post norms large, and the
# final norm restores a logit spread of a few units.
DEFAULT_INIT = {"embed_std": 0.4, "lm_head_std": 0.4, "bias_std": 0.2, "out_proj_gain": 1.0,
                "norm_mean": 1.0, "norm_std": 0.2, "post_norm_mean": None, "final_norm_mean": None}
TIED_LLAMA_INIT = {**DEFAULT_INIT, "out_proj_gain": 3.0}
GEMMA3_INIT = {**DEFAULT_INIT, "embed_std": 0.08, "norm_mean": 0.0, "norm_std": 0.3,
               "post_norm_mean": 2.0, "final_norm_mean": 4.0}


def describe_init(recipe: dict) -> str:
    return ("linear weights N(0, 1/fan_in), o_proj/down_proj times out_proj_gain; embed_tokens "
            "N(0, embed_std^2); untied lm_head N(0, lm_head_std^2); biases N(0, bias_std^2); RMSNorm "
            "weights norm_mean + N(0, norm_std^2) (gemma3 stores w of 1+w), post_*_layernorm mean "
            "post_norm_mean and final norm mean final_norm_mean where given; parameters drawn in "
            "sorted-name order from torch.Generator().manual_seed(weights_seed). recipe: "
            + json.dumps(recipe))


def init_weights(model: torch.nn.Module, seed: int, recipe: dict) -> None:
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std

    with torch.no_grad():
        for name, param in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if "embed_tokens" in name:
                param.copy_(normal(param.shape, recipe["embed_std"]))
            elif name.startswith("lm_head"):
                param.copy_(normal(param.shape, recipe["lm_head_std"]))
            elif name.endswith(".bias"):
                param.copy_(normal(param.shape, recipe["bias_std"]))
            elif "norm" in name:
                mean = recipe["norm_mean"]
                if name == "model.norm.weight" and recipe["final_norm_mean"] is not None:
                    mean = recipe["final_norm_mean"]
                elif ".post_" in name and recipe["post_norm_mean"] is not None:
                    mean = recipe["post_norm_mean"]
                param.copy_(mean + normal(param.shape, recipe["norm_std"]))
            elif param.dim() == 2:
                gain = recipe["out_proj_gain"] if ("o_proj" in name or "down_proj" in name) else 1.0
                param.copy_(normal(param.shape, gain / math.sqrt(param.shape[1])))
            else:
                raise RuntimeError(f"no init rule for parameter {name} {tuple(param.shape)}")


# --------------------------------------------------------------------------------------------
# Hub-style config. transformers 5 saves rope settings as `rope_parameters` (per layer type for
# gemma3); the configs on the Hub (and every real checkpoint the engine will load) still use the
# transformers-4 names: rope_theta, rope_scaling, rope_local_base_freq, sliding_window_pattern.
# The fixture carries both, and the tool checks that transformers reads both to the same model.
# --------------------------------------------------------------------------------------------

def hub_style_config(saved: dict) -> dict:
    cfg = copy.deepcopy(saved)
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    rope = cfg.pop("rope_parameters")
    if cfg["model_type"] == "gemma3_text":
        full = dict(rope["full_attention"])
        local = dict(rope["sliding_attention"])
        cfg["rope_theta"] = full.pop("rope_theta")
        cfg["rope_local_base_freq"] = local.pop("rope_theta")
        full_type = full.pop("rope_type")
        full.pop("type", None)
        cfg["rope_scaling"] = None if full_type == "default" else {"rope_type": full_type, **full}
        pattern = [t == "full_attention" for t in cfg["layer_types"]]
        # Hub gemma3 configs give the pattern as an int: layer i is global when (i+1) % n == 0.
        n = cfg.pop("_sliding_window_pattern", None)
        if n is not None and pattern == [((i + 1) % n == 0) for i in range(len(pattern))]:
            cfg["sliding_window_pattern"] = n
            del cfg["layer_types"]  # as in the Hub's gemma-3 configs: the int alone
        return cfg
    rope = dict(rope)
    cfg["rope_theta"] = rope.pop("rope_theta")
    rope_type = rope.pop("rope_type")
    legacy_type = rope.pop("type", None)
    if rope_type == "default":
        cfg["rope_scaling"] = None
    elif legacy_type is not None:
        cfg["rope_scaling"] = {"type": legacy_type, **rope}
    else:
        cfg["rope_scaling"] = {"rope_type": rope_type, **rope}
    return cfg


# --------------------------------------------------------------------------------------------
# The fixture writer, shared with tools/convert_llama2c_to_hf.py.
# --------------------------------------------------------------------------------------------

def write_f32(path: Path, array: np.ndarray) -> dict:
    data = np.ascontiguousarray(array, dtype="<f4")
    path.write_bytes(data.tobytes())
    return {"dtype": "float32", "byte_order": "little", "layout": "row-major",
            "shape": list(data.shape)}


def prompt_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float()


def greedy_generate(model, prompt_ids: list[int], n_new: int):
    """model.generate greedy, never stopping early; returns new ids and the raw per-step logits."""
    gen_config = GenerationConfig(do_sample=False, max_new_tokens=n_new, eos_token_id=None,
                                  pad_token_id=0, output_logits=True,
                                  return_dict_in_generate=True)
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids]), generation_config=gen_config,
                             attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long))
    new_ids = out.sequences[0, len(prompt_ids):].tolist()
    step_logits = torch.stack([l[0].float() for l in out.logits])
    if len(new_ids) != n_new or step_logits.shape[0] != n_new:
        raise RuntimeError(f"generate returned {len(new_ids)} tokens, wanted {n_new}")
    return new_ids, step_logits


def top2_gaps(logits: torch.Tensor) -> list[float]:
    top2 = torch.topk(logits, 2, dim=-1).values
    return (top2[:, 0] - top2[:, 1]).tolist()


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def check_greedy_consistency(model, prompt_ids, new_ids, step_logits) -> dict:
    """Recompute the generated steps with one full (no-cache) forward over prompt + generation:
    the argmax must reproduce every generated token and the logits must match generate's."""
    full = prompt_logits(model, prompt_ids + new_ids[:-1])[len(prompt_ids) - 1:]
    if full.argmax(-1).tolist() != new_ids:
        raise RuntimeError("full-forward argmax disagrees with generate's greedy tokens")
    return {"decode_vs_full_forward_max_abs_diff": max_abs(full, step_logits)}


def write_fixture(out_dir: Path, model, prompt_ids: list[int], n_new: int, meta: dict,
                  save_weights: bool = True) -> dict:
    """Writes config/weights (optional), prompt, logits and greedy continuation; checks that a
    reload from disk reproduces the logits. Returns the meta dict written to meta.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    logits = prompt_logits(model, prompt_ids)
    new_ids, step_logits = greedy_generate(model, prompt_ids, n_new)
    gaps = top2_gaps(step_logits)
    checks = check_greedy_consistency(model, prompt_ids, new_ids, step_logits)
    checks["prefill_last_row_vs_first_decode_step_max_abs_diff"] = max_abs(logits[-1], step_logits[0])

    if save_weights:
        model.save_pretrained(out_dir)
        # save_pretrained also writes generation_config.json; the fixture does not depend on it.
        (out_dir / "generation_config.json").unlink(missing_ok=True)
        if not (out_dir / "model.safetensors").exists():
            raise RuntimeError("save_pretrained did not write model.safetensors")
        saved_config = json.loads((out_dir / "config.json").read_text())
        hub_cfg = hub_style_config(saved_config)
        (out_dir / "config_hub_style.json").write_text(json.dumps(hub_cfg, indent=2) + "\n")
        checks.update(check_reload(out_dir, prompt_ids, logits, hub_cfg))

    (out_dir / "prompt_ids.json").write_text(json.dumps(prompt_ids) + "\n")
    (out_dir / "greedy_ids.json").write_text(json.dumps(
        {"ids": new_ids, "top2_logit_gap": [round(g, 6) for g in gaps]}, indent=1) + "\n")
    arrays = {
        "prompt_logits.bin": write_f32(out_dir / "prompt_logits.bin", logits.numpy()),
        "greedy_logits.bin": write_f32(out_dir / "greedy_logits.bin", step_logits.numpy()),
    }
    full_meta = {
        **meta,
        "versions": versions(),
        "attn_implementation": ATTN_IMPLEMENTATION,
        "torch_num_threads": torch.get_num_threads(),
        "prompt_tokens": len(prompt_ids),
        "greedy_tokens": n_new,
        "arrays": arrays,
        "logit_stats": {
            "prompt_logits_std": float(logits.std()),
            "prompt_logits_max_abs": float(logits.abs().max()),
            "greedy_min_top2_gap": min(gaps),
            "prompt_min_top2_gap": min(top2_gaps(logits)),
        },
        "self_checks": checks,
    }
    (out_dir / "meta.json").write_text(json.dumps(full_meta, indent=2) + "\n")
    return full_meta


def check_reload(out_dir: Path, prompt_ids, logits, hub_cfg: dict) -> dict:
    """Reload the saved weights with the saved config and with the hub-style config; both must
    reproduce the logits bit for bit."""
    reloaded = AutoModelForCausalLM.from_pretrained(out_dir, attn_implementation=ATTN_IMPLEMENTATION,
                                                    dtype=torch.float32)
    d_saved = max_abs(prompt_logits(reloaded.eval(), prompt_ids), logits)
    hub_config = AutoConfig.for_model(**{k: v for k, v in hub_cfg.items() if k != "transformers_version"})
    from_hub = AutoModelForCausalLM.from_pretrained(out_dir, config=hub_config,
                                                    attn_implementation=ATTN_IMPLEMENTATION,
                                                    dtype=torch.float32)
    d_hub = max_abs(prompt_logits(from_hub.eval(), prompt_ids), logits)
    if d_saved != 0.0 or d_hub != 0.0:
        raise RuntimeError(f"{out_dir.name}: reload changed the logits (config.json {d_saved}, "
                           f"config_hub_style.json {d_hub})")
    same = reloaded.config.to_diff_dict() == from_hub.config.to_diff_dict()
    return {"reload_config_json_max_abs_diff": d_saved,
            "reload_config_hub_style_json_max_abs_diff": d_hub,
            "hub_style_config_parses_to_same_config": same}


# --------------------------------------------------------------------------------------------
# Quirk checks: each quirk must move the logits by far more than the 1e-3 tolerance, otherwise
# an engine that ignores it would pass. Each rebuilds the model with the quirk removed.
# --------------------------------------------------------------------------------------------

def logits_with(model_cls, config, state_dict, prompt_ids, edit_state=None) -> torch.Tensor:
    m = model_cls._from_config(config, attn_implementation=ATTN_IMPLEMENTATION, dtype=torch.float32)
    sd = {k: v.clone() for k, v in state_dict.items()}
    if edit_state:
        edit_state(sd)
    m.load_state_dict(sd, strict=False)
    if config.tie_word_embeddings:
        m.tie_weights()
    return prompt_logits(m.eval(), prompt_ids)


def quirk_effects(name, model_cls, config, model, prompt_ids, logits) -> dict:
    sd = model.state_dict()
    effects = {}

    def effect(label, cfg=None, edit_state=None):
        alt = logits_with(model_cls, cfg if cfg is not None else config, sd, prompt_ids, edit_state)
        effects[label] = max_abs(alt, logits)

    if name == "llama_linear_rope":
        cfg = copy.deepcopy(config)
        cfg.rope_parameters = {"rope_type": "default", "rope_theta": 100000.0}
        effect("without_linear_rope_scaling", cfg)
    elif name == "llama3_rope":
        cfg = copy.deepcopy(config)
        cfg.rope_parameters = {"rope_type": "default", "rope_theta": 500000.0}
        effect("without_llama3_rope_scaling", cfg)
    elif name == "qwen2_bias":
        effect("qkv_bias_zeroed", edit_state=lambda sd: [v.zero_() for k, v in sd.items()
                                                        if k.endswith("_proj.bias")])
    elif name == "gemma3_sliding":
        cfg = copy.deepcopy(config)
        cfg.sliding_window = 4096
        effect("without_sliding_window", cfg)
        cfg = copy.deepcopy(config)
        cfg.query_pre_attn_scalar = config.head_dim
        effect("query_pre_attn_scalar_as_head_dim", cfg)
        cfg = copy.deepcopy(config)
        cfg.rope_parameters = copy.deepcopy(config.rope_parameters)
        cfg.rope_parameters["sliding_attention"]["rope_theta"] = 1000000.0
        effect("local_rope_theta_as_global", cfg)
        effect("norm_weights_zeroed", edit_state=lambda sd: [v.zero_() for k, v in sd.items()
                                                            if "norm" in k])
    if name in ("llama_gqa", "qwen2_bias", "llama_linear_rope", "llama3_rope"):
        effect("norm_weights_as_ones", edit_state=lambda sd: [v.fill_(1.0) for k, v in sd.items()
                                                             if "norm" in k])
    return effects


def sliding_window_semantics(window: int) -> dict:
    """Measures which keys a gemma3 sliding layer lets a query see: a 1-layer all-sliding model,
    change the token at position p and see which outputs move."""
    cfg = gemma3_sliding_config()
    cfg.num_hidden_layers = 1
    cfg.layer_types = ["sliding_attention"]
    torch.manual_seed(7)
    m = Gemma3ForCausalLM._from_config(cfg, attn_implementation=ATTN_IMPLEMENTATION, dtype=torch.float32)
    init_weights(m, 7, GEMMA3_INIT)
    ids = list(range(3, 3 + 3 * window))
    p = window // 2
    base = prompt_logits(m.eval(), ids)
    changed_ids = list(ids)
    changed_ids[p] = 200
    moved = (prompt_logits(m, changed_ids) - base).abs().amax(-1) > 1e-6
    moved_positions = [i for i, v in enumerate(moved.tolist()) if v]
    return {"perturbed_position": p, "positions_whose_logits_moved": moved_positions,
            "keys_visible_per_query_including_itself": len(moved_positions),
            "rule": "query i attends key j iff i - sliding_window < j <= i"
            if moved_positions == list(range(p, p + window)) else "UNEXPECTED: see positions"}


def make_model_fixture(name: str, out_root: Path) -> dict:
    config_fn, model_cls, seed, recipe_name = MODELS[name]
    recipe = globals()[recipe_name]
    config = config_fn()
    torch.manual_seed(seed)
    model = model_cls._from_config(config, attn_implementation=ATTN_IMPLEMENTATION,
                                   dtype=torch.float32)
    init_weights(model, seed, recipe)
    if config.tie_word_embeddings:
        model.tie_weights()
    model.eval()

    # Prompt: 64 uniform random ids; the seed is advanced (recorded) until every greedy step's
    # top-2 gap clears MIN_GREEDY_GAP and the continuation is not degenerate.
    for attempt in range(50):
        prompt_seed = seed * 100 + attempt
        gen = torch.Generator().manual_seed(prompt_seed)
        prompt_ids = torch.randint(0, config.vocab_size, (PROMPT_TOKENS,), generator=gen).tolist()
        new_ids, step_logits = greedy_generate(model, prompt_ids, GREEDY_TOKENS)
        if (min(top2_gaps(step_logits)) >= MIN_GREEDY_GAP
                and len(set(new_ids)) >= MIN_DISTINCT_GREEDY):
            break
    else:
        raise RuntimeError(f"{name}: no prompt seed gave greedy gaps >= {MIN_GREEDY_GAP} with "
                           f">= {MIN_DISTINCT_GREEDY} distinct tokens")

    out_dir = out_root / name
    meta = {
        "name": name,
        "model_class": model_cls.__name__,
        "weights_seed": seed,
        "init": describe_init(recipe),
        "prompt": f"torch.randint(0, vocab_size, ({PROMPT_TOKENS},), generator=manual_seed({prompt_seed}))",
        "prompt_seed_attempts": attempt + 1,
        "min_greedy_gap_required": MIN_GREEDY_GAP,
        "min_distinct_greedy_tokens_required": MIN_DISTINCT_GREEDY,
        "generate": f"model.generate(do_sample=False, max_new_tokens={GREEDY_TOKENS}, eos_token_id=None)",
    }
    full_meta = write_fixture(out_dir, model, prompt_ids, GREEDY_TOKENS, meta)
    logits = torch.from_numpy(np.fromfile(out_dir / "prompt_logits.bin", dtype="<f4")
                              .reshape(PROMPT_TOKENS, config.vocab_size))
    full_meta["quirk_effects_max_abs_logit_change"] = quirk_effects(
        name, model_cls, config, model, prompt_ids, logits)
    if name == "gemma3_sliding":
        full_meta["sliding_window_semantics"] = sliding_window_semantics(config.sliding_window)
    full_meta["weights_bytes"] = (out_dir / "model.safetensors").stat().st_size
    (out_dir / "meta.json").write_text(json.dumps(full_meta, indent=2) + "\n")
    for label, change in full_meta["quirk_effects_max_abs_logit_change"].items():
        if change < 0.05:
            raise RuntimeError(f"{name}: quirk {label} moves logits by only {change}")
    return full_meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"fixtures to make (default all: {', '.join(MODELS)})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output root")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for name in args.names or list(MODELS):
        if name not in MODELS:
            parser.error(f"unknown fixture {name}; known: {', '.join(MODELS)}")
        meta = make_model_fixture(name, args.out)
        print(f"{name}: weights {meta['weights_bytes']} B, logits std "
              f"{meta['logit_stats']['prompt_logits_std']:.3f}, greedy min gap "
              f"{meta['logit_stats']['greedy_min_top2_gap']:.4f}, checks {meta['self_checks']}, "
              f"quirks {meta['quirk_effects_max_abs_logit_change']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
