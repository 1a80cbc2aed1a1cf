"""e2e (label cuda, GPU machine only): `eaq hw` and `eaq meter` on a real NVIDIA GPU.

Meters a ~12 s PyTorch matmul loop, reports the GPU, idle power, gross/idle/net energy and how far
the energy counter and integrated power samples agree; then measures the overhead of metering a
~10 s window: the same fixed amount of GPU work timed in-process, alternately plain and under
`eaq meter` (< 1% required). Skips (77) without torch, CUDA or NVML. Set EAQ_GPU_REPORT=<file> to
keep the figures as JSON."""
import json
import os
import statistics
import subprocess
import sys
import tempfile

EAQ = os.environ["EAQ_BIN"]

LOAD = r'''
import argparse, time, torch
p = argparse.ArgumentParser()
p.add_argument("--seconds", type=float, default=0)
p.add_argument("--iterations", type=int, default=0)
args = p.parse_args()
a = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
for _ in range(5):
    c = a @ b
torch.cuda.synchronize()
n = args.iterations
if n == 0:
    t = time.perf_counter()
    for _ in range(50):
        c = a @ b
    torch.cuda.synchronize()
    n = max(1, int(args.seconds / ((time.perf_counter() - t) / 50)))
t0 = time.perf_counter()
for _ in range(n):
    c = a @ b
torch.cuda.synchronize()
print(f"work_s={time.perf_counter() - t0:.6f} iterations={n}", flush=True)
'''


def skip(why):
    print("skipped:", why)
    sys.exit(77)


try:
    import torch  # noqa: F401
    if not torch.cuda.is_available():
        skip("torch sees no CUDA device")
except ImportError:
    skip("torch is not installed")

hw = json.loads(subprocess.run([EAQ, "hw", "--json"], capture_output=True, text=True, check=True).stdout)
if not hw["gpus"]:
    skip("eaq sees no GPU through NVML")
gpu = hw["gpus"][0]
print(f"GPU: {gpu['name']}, driver {gpu['driver_version']}, power limit {gpu['power_limit_w']} W, "
      f"energy counter {gpu['energy_counter']}")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def work_s(stdout):
    for line in stdout.splitlines():
        if line.startswith("work_s="):
            fields = dict(f.split("=") for f in line.split())
            return float(fields["work_s"]), int(fields["iterations"])
    raise RuntimeError(f"the load printed no work_s: {stdout}")


with tempfile.TemporaryDirectory() as tmp:
    load = os.path.join(tmp, "load.py")
    with open(load, "w") as f:
        f.write(LOAD)
    report_file = os.path.join(tmp, "meter.json")

    # 1. A ~12 s GPU load metered with a 5 s idle baseline.
    result = subprocess.run([EAQ, "meter", "--idle", "5", "--json-file", report_file, "--", "python3", load,
                             "--seconds", "12"], capture_output=True, text=True)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    check(result.returncode == 0, f"eaq meter exit {result.returncode}")
    with open(report_file) as f:
        report = json.load(f)
    readings = {r["domain"]: r for r in report["window"]["readings"]}
    g = readings["gpu:0"]
    idle_w = next(p["power_w"] for p in report["idle_baseline"]["powers"] if p["domain"] == "gpu:0")
    check(g["source"] == "counter", f"gpu:0 source {g['source']}")
    check(report["duration_s"] >= 10, f"duration {report['duration_s']}")
    check(g["net_energy_j"] > 0, "a matmul loop costs energy above idle")
    check(g["sampled_vs_counter_percent"] is not None, "counter vs sampled agreement reported")

    # 2. Overhead of metering a ~10 s window: fixed work, plain vs metered, alternating.
    _, iterations = work_s(subprocess.run(["python3", load, "--seconds", "10"], capture_output=True, text=True,
                                          check=True).stdout)
    plain, metered = [], []
    for _ in range(2):
        plain.append(work_s(subprocess.run(["python3", load, "--iterations", str(iterations)], capture_output=True,
                                           text=True, check=True).stdout)[0])
        out = subprocess.run([EAQ, "meter", "--idle", "0", "--json-file", report_file, "--", "python3", load,
                              "--iterations", str(iterations)], capture_output=True, text=True, check=True).stdout
        metered.append(work_s(out)[0])
    overhead_pct = 100 * (statistics.median(metered) / statistics.median(plain) - 1)

figures = {
    "gpu": gpu["name"], "driver": gpu["driver_version"], "power_limit_w": gpu["power_limit_w"],
    "idle_power_w": idle_w, "duration_s": report["duration_s"], "gross_energy_j": g["energy_j"],
    "idle_energy_j": g["idle_energy_j"], "net_energy_j": g["net_energy_j"], "mean_power_w": g["mean_power_w"],
    "sampled_energy_j": g["sampled_energy_j"], "sampled_vs_counter_percent": g["sampled_vs_counter_percent"],
    "overhead_iterations": iterations, "plain_work_s": plain, "metered_work_s": metered,
    "metering_overhead_percent": overhead_pct,
}
print(json.dumps(figures, indent=2))
if os.environ.get("EAQ_GPU_REPORT"):
    with open(os.environ["EAQ_GPU_REPORT"], "w") as f:
        json.dump({"figures": figures, "hw": hw, "meter": report}, f, indent=2)
check(overhead_pct < 1.0, f"metering overhead {overhead_pct:.3f}% (must be < 1%)")
if failures:
    sys.exit(1)
print("ok")
