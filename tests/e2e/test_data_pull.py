"""e2e: `eaq data pull` / `eaq data list` against a local HTTP server on 127.0.0.1 (Range support,
interrupted transfers, corrupted files, a server without Range). No other network traffic."""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

EAQ = os.environ["EAQ_BIN"]
SHARED = os.environ.get("EAQ_SHARED", os.path.join(os.environ.get("EAQ_ROOT", "."), "..", "shared"))
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


if shutil.which("curl") is None:
    print("skip: the curl program is not installed (scripts/setup.sh installs it)")
    sys.exit(77)
gsm8k_dir = os.path.join(SHARED, "datasets", "gsm8k")
if not os.path.exists(os.path.join(gsm8k_dir, "test.jsonl")):
    print(f"skip: {gsm8k_dir} missing")
    sys.exit(77)


class Behaviour:
    def __init__(self):
        self.cut = {}  # path -> [bytes to send before closing, how many more requests to cut]
        self.corrupt = set()  # paths served with one byte changed
        self.ranges = True
        self.log = []  # (path, Range header or None)


behaviour = Behaviour()
ROOT = tempfile.mkdtemp(prefix="eaq-pull-server-")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.lstrip("/")
        behaviour.log.append((path, self.headers.get("Range")))
        local = os.path.join(ROOT, path)
        if not os.path.isfile(local):
            self.send_error(404)
            return
        data = open(local, "rb").read()
        if path in behaviour.corrupt:
            data = data[:1000] + bytes([data[1000] ^ 0x20]) + data[1001:]
        start = 0
        range_header = self.headers.get("Range")
        if behaviour.ranges and range_header and range_header.startswith("bytes="):
            start = int(range_header[len("bytes="):].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if behaviour.ranges else "none")
        self.end_headers()
        cut = behaviour.cut.get(path)
        if cut and cut[1] > 0:
            cut[1] -= 1
            self.wfile.write(body[:cut[0]])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


os.makedirs(os.path.join(ROOT, "gsm8k"))
os.makedirs(os.path.join(ROOT, "mbpp"))
for name in ("test.jsonl", "train.jsonl"):
    shutil.copy(os.path.join(gsm8k_dir, name), os.path.join(ROOT, "gsm8k", name))
with open(os.path.join(ROOT, "mbpp", "mbpp.jsonl"), "w") as f:
    f.write('{"task_id": 1}\n')
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{server.server_address[1]}"
ENV = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
ENV["NO_PROXY"] = "127.0.0.1"


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def pull(cache, *extra, task="gsm8k"):
    return subprocess.run([EAQ, "data", "pull", task, "--cache-dir", cache, "--url-base", BASE, "--json", *extra],
                          capture_output=True, text=True, timeout=120, env=ENV)


try:
    listing = subprocess.run([EAQ, "data", "list", "--json"], capture_output=True, text=True, timeout=30)
    check(listing.returncode == 0, f"data list: {listing.stderr}")
    sources = {s["task"]: s for s in json.loads(listing.stdout)}
    check(set(sources) >= {"gsm8k", "mbpp", "math500"}, f"sources {sorted(sources)}")
    pinned = {f["path"]: f["sha256"] for f in sources["gsm8k"]["files"]}
    check(pinned["gsm8k/test.jsonl"] == sha256(os.path.join(gsm8k_dir, "test.jsonl")), "pinned sha256 = sha256sum")
    check(sources["gsm8k"]["files"][0]["url"].startswith("https://raw.githubusercontent.com/openai/grade-school-math/"),
          "canonical URL")

    # 1. A transfer that breaks off, with one attempt: a clear error, the .part kept, nothing installed.
    cache = tempfile.mkdtemp(prefix="eaq-pull-cache-")
    behaviour.cut = {"gsm8k/test.jsonl": [100000, 1]}
    result = pull(cache, "--attempts", "1")
    check(result.returncode != 0, "interrupted pull fails")
    check("again to resume" in result.stderr, f"resume hint: {result.stderr}")
    part = os.path.join(cache, "gsm8k", "test.jsonl.part")
    check(os.path.exists(part) and os.path.getsize(part) == 100000, "the .part holds what arrived")
    check(not os.path.exists(os.path.join(cache, "gsm8k", "test.jsonl")), "no final file after an interruption")

    # 2. The same command again resumes with a Range request and verifies.
    behaviour.log.clear()
    result = pull(cache)
    check(result.returncode == 0, f"resumed pull: {result.stderr}")
    check(("gsm8k/test.jsonl", "bytes=100000-") in behaviour.log, f"Range request sent: {behaviour.log}")
    report = json.loads(result.stdout) if result.returncode == 0 else {"files": []}
    files = {os.path.basename(f["path"]): f for f in report["files"]}
    check(files.get("test.jsonl", {}).get("resumed_from_bytes") == 100000, f"resumed_from_bytes: {files}")
    check(all(f["verified"] for f in files.values()) and len(files) == 2, "both files verified")
    for name in ("test.jsonl", "train.jsonl"):
        final = os.path.join(cache, "gsm8k", name)
        check(os.path.exists(final) and sha256(final) == sha256(os.path.join(gsm8k_dir, name)), f"{name} intact")
    sums = open(os.path.join(cache, "gsm8k", "SHA256SUMS")).read()
    check(pinned["gsm8k/train.jsonl"] + "  train.jsonl" in sums, f"SHA256SUMS: {sums}")
    check(not os.path.exists(part), "the .part is gone")

    # 3. Present files are not downloaded again.
    behaviour.log.clear()
    result = pull(cache)
    check(result.returncode == 0 and behaviour.log == [], f"no requests for present files: {behaviour.log}")
    check(all(f["already_present"] for f in json.loads(result.stdout)["files"]), "already_present")

    # 4. Several interruptions inside one invocation: each attempt resumes.
    cache2 = tempfile.mkdtemp(prefix="eaq-pull-cache-")
    behaviour.cut = {"gsm8k/train.jsonl": [1000000, 2]}
    behaviour.log.clear()
    result = pull(cache2)
    check(result.returncode == 0, f"pull with two interruptions: {result.stderr}")
    check(("gsm8k/train.jsonl", "bytes=1000000-") in behaviour.log and
          ("gsm8k/train.jsonl", "bytes=2000000-") in behaviour.log, f"two resumes: {behaviour.log}")
    check(sha256(os.path.join(cache2, "gsm8k", "train.jsonl")) == pinned["gsm8k/train.jsonl"], "train intact")

    # 5. A wrong sha256: a clear error, the download deleted, nothing installed.
    cache3 = tempfile.mkdtemp(prefix="eaq-pull-cache-")
    behaviour.cut = {}
    behaviour.corrupt = {"gsm8k/train.jsonl"}
    result = pull(cache3)
    check(result.returncode != 0 and "sha256 mismatch" in result.stderr, f"mismatch error: {result.stderr}")
    check("gsm8k/train.jsonl" in result.stderr and pinned["gsm8k/train.jsonl"] in result.stderr, "names file and hash")
    leftovers = sorted(os.listdir(os.path.join(cache3, "gsm8k")))
    check("train.jsonl" not in leftovers and "train.jsonl.part" not in leftovers, f"bad file not kept: {leftovers}")
    behaviour.corrupt = set()

    # 6. A server without Range support: the stale .part is dropped and the file fetched whole.
    cache4 = tempfile.mkdtemp(prefix="eaq-pull-cache-")
    os.makedirs(os.path.join(cache4, "gsm8k"))
    with open(os.path.join(cache4, "gsm8k", "test.jsonl.part"), "wb") as f:
        f.write(open(os.path.join(gsm8k_dir, "test.jsonl"), "rb").read()[:5000])
    behaviour.ranges = False
    result = pull(cache4)
    check(result.returncode == 0, f"no-Range server: {result.stderr}")
    check(sha256(os.path.join(cache4, "gsm8k", "test.jsonl")) == pinned["gsm8k/test.jsonl"], "fetched whole")
    behaviour.ranges = True

    # 7. Files without a pinned sha256 need --no-verify, asked before any request.
    behaviour.log.clear()
    result = pull(cache, task="mbpp")
    check(result.returncode != 0 and "--no-verify" in result.stderr and behaviour.log == [],
          f"unpinned refused before download: {result.stderr} {behaviour.log}")
    result = pull(cache, "--no-verify", task="mbpp")
    check(result.returncode == 0, f"--no-verify: {result.stderr}")
    if result.returncode == 0:
        entry = json.loads(result.stdout)["files"][0]
        check(entry["verified"] is False and entry["sha256"] == sha256(os.path.join(ROOT, "mbpp", "mbpp.jsonl")),
              f"unverified entry {entry}")
        check("unverified" in open(os.path.join(cache, "mbpp", "SHA256SUMS")).read(), "manifest says unverified")

    # 8. An unknown task and a missing file on the server.
    result = subprocess.run([EAQ, "data", "pull", "nope", "--cache-dir", cache], capture_output=True, text=True, timeout=30)
    check(result.returncode != 0 and "gsm8k" in result.stderr, f"unknown task: {result.stderr}")
    result = pull(tempfile.mkdtemp(prefix="eaq-pull-cache-"), "--no-verify", task="math500")
    check(result.returncode != 0 and "404" in result.stderr, f"404: {result.stderr}")
finally:
    server.shutdown()
    shutil.rmtree(ROOT, ignore_errors=True)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok")
