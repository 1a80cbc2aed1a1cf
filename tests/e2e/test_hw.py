"""e2e: `eaq hw` with no NVML/RAPL and with the test-double NVML (counter on and off)."""
import json
import os
import sys

import subprocess

EAQ = os.environ["EAQ_BIN"]
FAKE_NVML = os.path.join(os.environ["EAQ_BUILD"], "tests", "fakes", "libfake_nvml.so")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def hw(json_flag=True, **env_extra):
    env = dict(os.environ)
    env.update({"EAQ_NVML_LIBRARY": "/nonexistent/libnvidia-ml.so.1", "EAQ_POWERCAP_ROOT": "/nonexistent/powercap"})
    env.update(env_extra)
    result = subprocess.run([EAQ, "hw"] + (["--json"] if json_flag else []), env=env, capture_output=True,
                            text=True, timeout=60)
    check(result.returncode == 0, f"eaq hw exit {result.returncode}: {result.stderr}")
    return json.loads(result.stdout) if json_flag else result.stdout


report = hw()
check(report["gpus"] == [] and report["nvml"]["available"] is False, "no GPU without NVML")
check(report["cpu"]["logical_cpus"] >= 1 and report["cpu"]["model"], f"cpu {report['cpu']}")
check(report["cpu"]["memory_bytes"] > 0, "memory size")
check(report["rapl"]["available"] is False and "no RAPL" in report["rapl"]["reason"], f"rapl {report['rapl']}")
meters = {m["meter"]: m for m in report["meters"]}
check(meters["cpu-estimate"]["used"] and not meters["nvml"]["used"], "fallback to the CPU estimate")

text = hw(json_flag=False)
check("Meters" in text and "cpu-estimate" in text and "none visible" in text, f"text output: {text}")

if os.path.exists(FAKE_NVML):
    report = hw(EAQ_NVML_LIBRARY=FAKE_NVML, FAKE_NVML_GPUS="2", FAKE_NVML_NAME="Fake H100")
    gpus = report["gpus"]
    check(len(gpus) == 2 and gpus[1]["index"] == 1, f"two fake GPUs: {gpus}")
    check(gpus[0]["name"] == "Fake H100" and gpus[0]["driver_version"] == "999.99-fake", "name and driver")
    check(gpus[0]["power_limit_w"] == 700 and gpus[0]["energy_counter"] is True, "limit and counter")
    check(gpus[0]["source"] == "counter", "counter source")
    check(report["nvml"]["available"] and report["nvml"]["library"] == FAKE_NVML, "NVML library path reported")
    report = hw(EAQ_NVML_LIBRARY=FAKE_NVML, FAKE_NVML_COUNTER="0")
    check(report["gpus"][0]["energy_counter"] is False and report["gpus"][0]["source"] == "sampled", "no counter")
    nvml = {m["meter"]: m for m in report["meters"]}["nvml"]
    check("no energy counter" in nvml["reason"], f"reason says why sampled: {nvml['reason']}")
else:
    print(f"note: {FAKE_NVML} not built; fake-NVML cases skipped")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok")
