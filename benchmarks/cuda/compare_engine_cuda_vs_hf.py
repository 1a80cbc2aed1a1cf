#!/usr/bin/env python3
"""eaq's CUDA engine beside HF transformers (eager, fp16) on the same GPU, same job, random weights.

  compare_engine_cuda_vs_hf.py bench  [--shape NAME]... [--prompt 512] [--new 128] [--jsonl FILE]
      HF transformers eager fp16, batch 1: prefill tok/s, decode tok/s, J/token from NVML's total
      energy counter with the idle power (measured first, 3 s) subtracted. The eaq figures come
      from bench_engine_cuda in the same job (device_run_cuda.sh runs both).
  compare_engine_cuda_vs_hf.py parity --bench-bin PATH [--shape NAME]... [--new 64] [--dir TMP]
      A random-init model of the shape is saved as an HF directory (config.json +
      model.safetensors, fp16); HF greedy-decodes 64 tokens after a 32-token prompt and eaq's CUDA
      engine (bench_engine_cuda --model) does the same from the saved files. Reports the first
      token where they part and HF's top-1/top-2 logit gap there (a near-tie when tiny), and the
      max |Δ| of the prompt's last logits.

Shapes: the published config.json values of Llama-2-7B, DeepSeek-Coder-1.3B-base and
DeepSeek-R1-Distill-Qwen-1.5B. Every row says synthetic (random weights).
"""
import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = {
    "llama2-7b": dict(model_type="llama", hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                      num_attention_heads=32, num_key_value_heads=32, vocab_size=32000, rope_theta=10000.0,
                      rms_norm_eps=1e-5, max_position_embeddings=4096, tie_word_embeddings=False),
    "deepseek-coder-1.3b": dict(model_type="llama", hidden_size=2048, intermediate_size=5504, num_hidden_layers=24,
                                num_attention_heads=16, num_key_value_heads=16, vocab_size=32256,
                                rope_theta=100000.0, rms_norm_eps=1e-6, max_position_embeddings=16384,
                                rope_scaling={"type": "linear", "factor": 4.0}, tie_word_embeddings=False),
    "r1-distill-qwen-1.5b": dict(model_type="qwen2", hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                                 num_attention_heads=12, num_key_value_heads=2, vocab_size=151936,
                                 rope_theta=10000.0, rms_norm_eps=1e-6, max_position_embeddings=131072,
                                 tie_word_embeddings=False, use_sliding_window=False),
}


def make_config(name):
    from transformers import AutoConfig
    spec = dict(SHAPES[name])
    model_type = spec.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **spec)
    cfg.torch_dtype = "float16"
    return cfg


def random_model(name, seed=0):
    import torch
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    cfg = make_config(name)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.float16, attn_implementation="eager")
    return model.eval()


class Nvml:
    def __init__(self):
        import pynvml
        pynvml.nvmlInit()
        self.nv = pynvml
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.name = pynvml.nvmlDeviceGetName(self.h)

    def energy_j(self):
        return self.nv.nvmlDeviceGetTotalEnergyConsumption(self.h) / 1000.0


def bench(args):
    import torch
    nvml = Nvml()
    # Idle power, the same way eaq's energy module does it: the counter over a quiet interval.
    torch.cuda.synchronize()
    e0, t0 = nvml.energy_j(), time.perf_counter()
    time.sleep(3.0)
    idle_w = (nvml.energy_j() - e0) / (time.perf_counter() - t0)
    print(f"HF transformers {__import__('transformers').__version__}, torch {torch.__version__}, {nvml.name}; "
          f"GPU idle {idle_w:.1f} W (NVML counter, 3 s)")
    rows = []
    for name in args.shape or list(SHAPES):
        model = random_model(name)
        vocab = SHAPES[name]["vocab_size"]
        ids = torch.tensor([[(i * 7919 + 13) % vocab for i in range(args.prompt)]], device="cuda")
        kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None)
        with torch.no_grad():
            model.generate(ids, max_new_tokens=8, min_new_tokens=8, **kw)  # warm-up
            torch.cuda.synchronize()
            t = time.perf_counter()
            model(ids)
            torch.cuda.synchronize()
            prefill_s = time.perf_counter() - t
            e_start, t = nvml.energy_j(), time.perf_counter()
            out = model.generate(ids, max_new_tokens=args.new, min_new_tokens=args.new, **kw)
            torch.cuda.synchronize()
            total_s = time.perf_counter() - t
            time.sleep(0.15)  # the counter updates every ~100 ms
            energy = nvml.energy_j() - e_start
        n_new = out.shape[1] - args.prompt
        decode_tps = (n_new - 1) / max(total_s - prefill_s, 1e-9)
        net = energy - idle_w * (total_s + 0.15)
        row = dict(bench="hf_transformers_eager", synthetic=True, shape=name, precision="f16", gpu=nvml.name,
                   prompt_tokens=args.prompt, new_tokens=int(n_new), prefill_s=prefill_s,
                   prefill_tok_s=args.prompt / prefill_s, decode_tok_s=decode_tps, total_s=total_s,
                   job_j_per_new_token_gross=energy / n_new, job_j_per_new_token_net=net / n_new,
                   gpu_idle_w=idle_w, energy_source="counter (nvmlDeviceGetTotalEnergyConsumption)")
        rows.append(row)
        print(f"{name:<22} HF eager f16: decode {decode_tps:7.1f} tok/s, prefill {args.prompt / prefill_s:8.0f} tok/s, "
              f"{energy / n_new:.3f} J/token gross, {net / n_new:.3f} net (job: prompt + {n_new} tokens)")
        del model
        torch.cuda.empty_cache()
    if args.jsonl:
        with open(args.jsonl, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


def parity(args):
    import torch
    results = []
    for name in args.shape or ["deepseek-coder-1.3b", "r1-distill-qwen-1.5b"]:
        model = random_model(name, seed=1)
        path = os.path.join(args.dir, name)
        model.save_pretrained(path, safe_serialization=True)
        vocab = SHAPES[name]["vocab_size"]
        prompt = [(i * 104729 + 7) % vocab for i in range(32)]
        ids = torch.tensor([prompt], device="cuda")
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=args.new, min_new_tokens=args.new, do_sample=False,
                                 pad_token_id=0, eos_token_id=None, output_scores=True, return_dict_in_generate=True)
            hf_last = model(ids).logits[0, -1].float().cpu()
        hf_tokens = out.sequences[0, len(prompt):].tolist()
        scores = [s[0].float().cpu() for s in out.scores]
        del model
        torch.cuda.empty_cache()
        logits_path = os.path.join(args.dir, name + ".eaq_logits.f32")
        r = subprocess.run([args.bench_bin, "--model", path, "--ids", ",".join(map(str, prompt)), "--new",
                            str(args.new), "--weights", "f16", "--logits", logits_path],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            print(f"{name}: eaq failed: {r.stderr.strip()[-600:]}")
            results.append(dict(shape=name, ok=False))
            continue
        lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        eaq_tokens = next(l["tokens"] for l in lines if "tokens" in l)
        cpu_gpu = next((l for l in lines if "max_abs_diff" in l), {})
        eaq_last = torch.frombuffer(bytearray(open(logits_path, "rb").read()), dtype=torch.float32)
        diff = (eaq_last - hf_last).abs().max().item()
        first = next((i for i, (a, b) in enumerate(zip(hf_tokens, eaq_tokens)) if a != b), None)
        gap = None
        if first is not None:
            top2 = torch.topk(scores[first], 2).values
            gap = (top2[0] - top2[1]).item()
        print(f"{name:<22} (synthetic) eaq cuda vs HF eager fp16: {first if first is not None else len(hf_tokens)}/"
              f"{len(hf_tokens)} greedy tokens identical before the first difference"
              + (f" (HF top-1/top-2 gap there {gap:.4g})" if gap is not None else "")
              + f"; last prompt logits max |Δ| {diff:.4g} (max |logit| {hf_last.abs().max().item():.3g}); "
              f"eaq cuda vs eaq cpu max |Δ| {cpu_gpu.get('max_abs_diff')}")
        results.append(dict(shape=name, identical_prefix=first if first is not None else len(hf_tokens),
                            n=len(hf_tokens), gap_at_first_difference=gap, logits_max_abs_diff_vs_hf=diff,
                            logits_max_abs_diff_cuda_vs_cpu=cpu_gpu.get("max_abs_diff"), hf_tokens=hf_tokens,
                            eaq_tokens=eaq_tokens))
    if args.jsonl:
        with open(args.jsonl, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--shape", action="append", choices=list(SHAPES))
    b.add_argument("--prompt", type=int, default=512)
    b.add_argument("--new", type=int, default=128)
    b.add_argument("--jsonl")
    q = sub.add_parser("parity")
    q.add_argument("--bench-bin", required=True)
    q.add_argument("--shape", action="append", choices=list(SHAPES))
    q.add_argument("--new", type=int, default=64)
    q.add_argument("--dir", default="/tmp/eaq_parity")
    q.add_argument("--jsonl")
    args = p.parse_args()
    bench(args) if args.cmd == "bench" else parity(args)


if __name__ == "__main__":
    sys.exit(main())
