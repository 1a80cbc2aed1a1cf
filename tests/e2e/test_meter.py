"""e2e: `eaq meter` without GPU/NVML/RAPL (CPU estimate), with the test-double NVML, failing and
killed commands, carbon/cost flags checked against hand-computed formulas."""
import json
import os
import subprocess
import sys
import tempfile

EAQ = os.environ["EAQ_BIN"]
BUILD = os.environ["EAQ_BUILD"]
FAKE_NVML = os.path.join(BUILD, "tests", "fakes", "libfake_nvml.so")
KWH_J = 3.6e6
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def run(args, env_extra=None, **kwargs):
    env = dict(os.environ)
    env.update({"EAQ_NVML_LIBRARY": "/nonexistent/libnvidia-ml.so.1", "EAQ_POWERCAP_ROOT": "/nonexistent/powercap"})
    env.update(env_extra or {})
    return subprocess.run([EAQ] + args, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def meter_json(args, command, env_extra=None):
    result = run(["meter", "--json"] + args + ["--"] + command, env_extra)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr)
        raise
    return result, report


# 1. No GPU, no NVML, no RAPL: the CPU estimate meter, labelled estimated, and the reasons.
busy = ["sh", "-c", "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"]
result, report = meter_json(["--idle", "0.3"], busy)
check(result.returncode == 0, f"busy loop exit code {result.returncode}: {result.stderr}")
meters = {m["meter"]: m for m in report["meters"]}
check(not meters["nvml"]["used"] and "cannot load" in meters["nvml"]["reason"], f"nvml decision {meters['nvml']}")
check(not meters["rapl"]["used"] and "no RAPL" in meters["rapl"]["reason"], f"rapl decision {meters['rapl']}")
check(meters["cpu-estimate"]["used"] and "RAPL unavailable" in meters["cpu-estimate"]["reason"], "cpu-estimate decision")
window = report["window"]
domains = {r["domain"]: r for r in window["readings"]}
check(set(domains) == {"cpu", "dram"}, f"domains {sorted(domains)}")
check(all(r["source"] == "estimated" for r in window["readings"]), "estimate readings must be labelled estimated")
check(window["duration_s"] > 0.05, f"duration {window['duration_s']}")
check(report["idle_baseline"] is not None and report["idle_baseline"]["duration_s"] >= 0.3, "idle baseline reported")
cpu = domains["cpu"]
check(abs(cpu["net_energy_j"] - (cpu["energy_j"] - cpu["idle_energy_j"])) < 1e-9, "net = gross - idle")
check(abs(cpu["idle_energy_j"] - cpu["idle_power_w"] * cpu["duration_s"]) < 1e-9, "idle = idle power x duration")
check(cpu["mean_power_w"] > cpu["idle_power_w"], "a busy loop draws more than idle under the estimate")
gross_j = window["energy_j"]
check(abs(gross_j - sum(r["energy_j"] for r in window["readings"])) < 1e-9, "total = sum of domains")
carbon = report["carbon"]
check(abs(carbon["grams_co2e"] - gross_j / KWH_J * 481) < 1e-12, f"world-average gCO2e {carbon['grams_co2e']}")
check(carbon["intensity_year"] == 2023 and "Ember" in carbon["intensity_source"], "world average source and year")
check(abs(carbon["cost"] - gross_j / KWH_J * 0.15) < 1e-12 and carbon["price_assumed"], "default price")

# 2. Carbon and cost flags.
result, report = meter_json(["--idle", "0", "--country", "FR", "--pue", "1.2", "--price-per-kwh", "0.3",
                             "--currency", "EUR"], ["true"])
gross_j = report["window"]["energy_j"]
carbon = report["carbon"]
check(carbon["intensity_g_per_kwh"] == 56 and carbon["pue"] == 1.2, f"FR carbon {carbon}")
check(abs(carbon["grams_co2e"] - gross_j / KWH_J * 1.2 * 56) < 1e-12, "FR grams with PUE")
check(abs(carbon["cost"] - gross_j / KWH_J * 1.2 * 0.3) < 1e-12 and not carbon["price_assumed"], "given price")
check(report["idle_baseline"] is None, "--idle 0 means no baseline")
result, report = meter_json(["--idle", "0", "--region", "us-central1", "--carbon-intensity", "100"], ["true"])
check(report["carbon"]["intensity_g_per_kwh"] == 100, "--carbon-intensity overrides --region")
with tempfile.TemporaryDirectory() as tmp:
    marker = os.path.join(tmp, "ran")
    result = run(["meter", "--idle", "0", "--country", "Atlantis", "--", "touch", marker])
    check(result.returncode != 0 and "Atlantis" in result.stderr, f"unknown country: {result.returncode} {result.stderr}")
    check(not os.path.exists(marker), "bad flags must fail before the command runs")
    result = run(["meter", "--idle", "0", "--pue", "0.5", "--", "true"])
    check(result.returncode != 0 and "PUE" in result.stderr, "PUE < 1 rejected")

# 3. A failing command is still reported and its exit code passed on; a killed one gives 128+signal.
result, report = meter_json(["--idle", "0"], ["sh", "-c", "exit 3"])
check(result.returncode == 3 and report["exit_code"] == 3, f"exit code {result.returncode}")
check(report["window"]["energy_j"] > 0, "a failing command's energy is reported")
result, report = meter_json(["--idle", "0"], ["sh", "-c", "kill -TERM $$"])
check(result.returncode == 143 and report["exit_code"] == 143, f"killed command exit code {result.returncode}")
result = run(["meter", "--idle", "0", "--", "/nonexistent/command"])
check(result.returncode == 127 and "cannot run" in result.stderr, f"missing command: {result.returncode}")

# 4. Human-readable report says which meters it fell back to.
result = run(["meter", "--idle", "0.2", "--", "true"])
check(result.returncode == 0, "text report exit code")
check("meter cpu-estimate" in result.stdout and "not used nvml" in result.stdout and "estimated" in result.stdout,
      f"text report: {result.stdout}")

# 5. The test-double NVML through the normal dlopen path: counter source, idle and net.
if os.path.exists(FAKE_NVML):
    env = {"EAQ_NVML_LIBRARY": FAKE_NVML, "FAKE_NVML_POWER_W": "200", "FAKE_NVML_NAME": "Fake H100"}
    result, report = meter_json(["--idle", "0.5"], ["sleep", "1"], env)
    check(result.returncode == 0, f"fake NVML run: {result.stderr}")
    gpu = {r["domain"]: r for r in report["window"]["readings"]}.get("gpu:0")
    check(gpu is not None and gpu["source"] == "counter", f"gpu:0 reading {gpu}")
    if gpu:
        check(abs(gpu["mean_power_w"] - 200) < 4, f"fake GPU mean power {gpu['mean_power_w']}")
        check(abs(gpu["idle_power_w"] - 200) < 4, f"fake GPU idle power {gpu['idle_power_w']}")
        check(abs(gpu["net_energy_j"]) < 0.03 * gpu["energy_j"], f"constant power: net ~ 0, got {gpu['net_energy_j']}")
        check(gpu["sampled_vs_counter_percent"] is not None and abs(gpu["sampled_vs_counter_percent"]) < 3,
              f"counter vs sampled {gpu['sampled_vs_counter_percent']}")
    check(report["gpus"] and report["gpus"][0]["name"] == "Fake H100", "GPU state in the report")
    env["FAKE_NVML_COUNTER"] = "0"
    result, report = meter_json(["--idle", "0"], ["sleep", "0.5"], env)
    gpu = {r["domain"]: r for r in report["window"]["readings"]}["gpu:0"]
    check(gpu["source"] == "sampled" and abs(gpu["mean_power_w"] - 200) < 6, f"sampled fallback {gpu}")
    env["FAKE_NVML_COUNTER"] = "1"
    env["FAKE_NVML_INIT_ERROR"] = "9"
    result, report = meter_json(["--idle", "0"], ["true"], env)
    nvml = {m["meter"]: m for m in report["meters"]}["nvml"]
    check(result.returncode == 0 and not nvml["used"] and "Driver Not Loaded" in nvml["reason"], f"init error {nvml}")
else:
    print(f"note: {FAKE_NVML} not built; fake-NVML cases skipped")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok")
