"""e2e: `eaq bench` on stories260K with tiny settings — the markdown table, every --out format read
back with Python's own parsers (csv, json, sqlite3), bad flags as clear errors, and interrupted runs
(SIGKILL, SIGINT) that leave a valid SQLite file holding every row committed before the signal."""
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

EAQ = os.environ["EAQ_BIN"]
SHARED = os.environ["EAQ_SHARED"]
BUILD = os.environ["EAQ_BUILD"]
MODEL = os.path.join(SHARED, "models", "stories260K", "stories260K.bin")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


if not os.path.exists(MODEL):
    print(f"skip: {MODEL} is missing")
    sys.exit(77)

ENV = dict(os.environ)
# One bandwidth measurement for all tests (the cache is per machine and thread count).
ENV["EAQ_CACHE_DIR"] = os.path.join(BUILD, "test-cache")
ENV["EAQ_POWERCAP_ROOT"] = "/nonexistent/powercap"  # the CPU estimate everywhere: same meter on every machine
TINY_FLAGS = {"-m": MODEL, "-p": "16", "-n": "8", "-r": "2", "--precision": "f32,int8", "--idle": "0.2",
              "--cooldown": "0", "--quality-chunk": "64", "--quality-chunks": "1", "-t": "1"}


def tiny(**overrides):
    """The tiny settings with some flags replaced (keys: flag names without dashes, _ for -)."""
    flags = dict(TINY_FLAGS)
    for key, value in overrides.items():
        flag = ("-" if len(key) == 1 else "--") + key.replace("_", "-")
        flags[flag] = value
    return [x for k, v in flags.items() for x in (k, v)] + ["--no-progress"]


TINY = tiny()


def bench(args, **kwargs):
    return subprocess.run([EAQ, "bench"] + args, env=ENV, capture_output=True, text=True, timeout=300, **kwargs)


tmp = tempfile.mkdtemp(prefix="eaq_bench_e2e_")

# 1. The markdown table on stdout.
r = bench(TINY)
check(r.returncode == 0, f"md run exit {r.returncode}: {r.stderr}")
lines = r.stdout.splitlines()
rows = [l for l in lines if l.startswith("| f32 ") or l.startswith("| int8 ")]
check(len(rows) == 2, f"two precision rows in the table: {r.stdout}")
check(any("decode tok/s" in l for l in lines), "the table has a decode tok/s column")
check("estimated" in r.stdout, "the energy source is said (estimated: the CPU estimate meter)")
check("stories260K.bin" in r.stdout and "sha256" in r.stdout, "the model and its hash are in the header")
f32_row = [c.strip() for c in rows[0].strip("|").split("|")] if rows else []
check(len(f32_row) > 9 and f32_row[9] == "100.0", f"f32 vs the f32 reference: top-1 100.0%, row {f32_row}")

# 2. Every --out format, read back.
out_csv = os.path.join(tmp, "r.csv")
r = bench(TINY + ["-o", "csv", "--out", out_csv])
check(r.returncode == 0, f"csv run exit {r.returncode}: {r.stderr}")
check("| f32" in r.stdout, "with --out, the table still goes to stdout")
with open(out_csv, newline="") as f:
    records = list(csv.DictReader(f))
check([x["precision"] for x in records] == ["f32", "int8"], f"csv precisions {[x.get('precision') for x in records]}")
for x in records:
    check(float(x["decode_tokens_per_s"]) > 0, f"csv decode tok/s {x['decode_tokens_per_s']}")
    check(x["completed_repetitions"] == "2" and x["complete"] == "1", "csv: 2 repetitions, complete")
    check(x["energy_source"] == "estimated", f"csv energy source {x['energy_source']}")
    check(float(x["decode_j_per_token"]) > 0, "csv decode J/token measured")
    check(len(x["model_sha256"]) == 64, "csv model sha256")
    check(float(x["weights_bytes"]) > 0 and float(x["kv_cache_bytes"]) > 0, "csv memory figures")
    ci = x["decode_tokens_per_s_ci95"]
    check(ci != "" and float(ci) >= 0, f"csv CI95 of 2 repetitions present: {ci!r}")
    eor, q, e_j = float(x["eor"]), float(x["top1_agreement"]), float(x["request_energy_j"])
    # EOR is a mean over repetitions of q / Wh_i; with 2 repetitions it lies within the range q / Wh of them.
    check(eor > 0 and q > 0.5, f"csv eor {eor}, top-1 {q}")

out_json = os.path.join(tmp, "r.json")
r = bench(TINY + ["-o", "json", "--out", out_json])
check(r.returncode == 0, f"json run exit {r.returncode}: {r.stderr}")
with open(out_json) as f:
    doc = json.load(f)
check(doc["schema_version"] == 1, "json schema version")
check(len(doc["bench_summaries"]) == 2 and len(doc["bench_measurements"]) == 4, "json: 2 summaries, 4 measurements")
for m in doc["bench_measurements"]:
    check(abs(m["decode_tokens_per_s"] - 8 / m["decode_s"]) < 1e-9 * m["decode_tokens_per_s"], "decode tok/s = n_gen / decode_s")
    check(m["itl_p50_s"] <= m["itl_p90_s"] <= m["itl_p99_s"], "latency percentiles ordered")
    check(abs(m["decode_j_per_token"] - m["decode_energy_j"] / 8) < 1e-12, "decode J/token = decode J / n_gen")

r = bench(TINY + ["-o", "jsonl"])  # no --out: the rows on stdout, no table
check(r.returncode == 0, f"jsonl run exit {r.returncode}: {r.stderr}")
objects = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
tables = [o["table"] for o in objects]
check(tables == ["bench_measurements"] * 2 + ["bench_summaries"] + ["bench_measurements"] * 2 + ["bench_summaries"],
      f"jsonl row order {tables}")

out_db = os.path.join(tmp, "r.sqlite")
for _ in range(2):  # the second run appends
    r = bench(TINY + ["-o", "sqlite", "--out", out_db])
    check(r.returncode == 0, f"sqlite run exit {r.returncode}: {r.stderr}")
db = sqlite3.connect(out_db)
check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "sqlite integrity")
check(db.execute("SELECT count(*) FROM bench_measurements").fetchone()[0] == 8, "sqlite: 8 measurement rows over 2 runs")
check(db.execute("SELECT count(DISTINCT run_id) FROM bench_summaries").fetchone()[0] == 2, "sqlite: 2 runs")
row = db.execute("SELECT precision, top1_agreement, decode_tokens_per_s FROM bench_summaries ORDER BY rowid").fetchone()
check(row[0] == "f32" and row[1] == 1.0 and row[2] > 0, f"sqlite summary row {row}")
db.close()

# 3. Bad flags: a clear error, exit code 1, nothing measured.
bad = [
    (tiny(n="0"), "-n 0"),
    (tiny(r="0"), "-r 0"),
    (tiny(precision="f32,int3"), "--precision int3"),
    (tiny(m="/nonexistent/model.gguf"), "no such file"),
    (tiny(precision="q4_1", device="cuda"), "CUDA backend"),  # no GPU kernel, or no backend built
    (tiny(device="tpu"), "--device tpu"),
    (TINY + ["-o", "xml"], "-o xml"),
    (TINY + ["-o", "sqlite"], "needs --out"),
    (TINY + ["-o", "csv", "--out", "/nonexistent/dir/r.csv"], "cannot write --out"),
    (TINY + ["-o", "sqlite", "--out", "/nonexistent/dir/r.sqlite"], "cannot open the results database"),
    (TINY + ["--country", "Atlantis"], "Atlantis"),
]
for args, expected in bad:
    extra = args
    r = bench(args)
    check(r.returncode == 1, f"{extra}: exit {r.returncode} (want 1); stderr {r.stderr[-300:]}")
    check("eaq: error:" in r.stderr and expected in r.stderr, f"{extra}: stderr lacks {expected!r}: {r.stderr[-300:]}")

# 4. Interrupted runs: many repetitions, killed once at least one row is committed.
LONG = ["-m", MODEL, "-p", "16", "-n", "32", "-r", "100000", "--precision", "f32,int8", "--idle", "0",
        "--cooldown", "0", "--no-quality", "-t", "1", "--no-progress"]


def committed_rows(path):
    try:
        c = sqlite3.connect(path, timeout=10)
        try:
            return c.execute("SELECT count(*) FROM bench_measurements").fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


for sig in (signal.SIGKILL, signal.SIGINT):
    path = os.path.join(tmp, f"interrupted_{sig.name}.sqlite")
    proc = subprocess.Popen([EAQ, "bench"] + LONG + ["-o", "sqlite", "--out", path], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    seen = 0
    while time.time() < deadline and seen < 3:
        time.sleep(0.2)
        seen = committed_rows(path)
    check(seen >= 3, f"{sig.name}: at least 3 rows committed before the signal (saw {seen})")
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        check(proc.returncode == -signal.SIGKILL, f"SIGKILL: return code {proc.returncode}")
    else:
        check(proc.returncode == 130, f"SIGINT: exit {proc.returncode} (want 130); stderr {stderr[-300:]}")
        check("interrupted" in stdout and "| f32 (partial)" in stdout, f"SIGINT: the table of what was measured: {stdout[-500:]}")
    db = sqlite3.connect(path)
    check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"{sig.name}: integrity_check")
    n = db.execute("SELECT count(*) FROM bench_measurements").fetchone()[0]
    check(n >= seen, f"{sig.name}: {n} rows in the file, {seen} were committed before the signal")
    reps = [r[0] for r in db.execute("SELECT repetition FROM bench_measurements ORDER BY rowid")]
    check(reps == list(range(1, n + 1)), f"{sig.name}: repetitions 1..{n} in order, complete rows only")
    if sig == signal.SIGINT:
        s = db.execute("SELECT completed_repetitions, complete FROM bench_summaries").fetchall()
        check(s == [(n, 0)], f"SIGINT: a partial summary of the {n} repetitions: {s}")
    db.close()

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("bench e2e: all checks passed")
