#!/usr/bin/env python3
"""e2e: tools/kernel_trace_summary.py on a hand-made CUPTI trace (benchmarks/cuda/kernel_trace.cpp's
format) whose per-kernel shares are known.

Three decode steps (graph_id 7) of four kernels, the third overlapping the second as programmatic
dependent launch lets it (it starts before the second ends): embedding 0-2 us, add_rms_norm 2-4,
half_matvec 3.5-10 (span 6.5, share 10 - 4 = 6), argmax 10-11; steps 20 us apart. Outside graphs
(graph_id 0): a GEMM of the benchmark's own, then a prefill of three kernels from its embedding lookup
on (1, 47 and 11 us, a 2 us gap, 1 us of overlap), and a slower prefill after the steps. Expected: 3 steps, step wall 11 us, shares 2 / 2 / 6 / 1 us
(they add up to the wall), half_matvec's span 6.5 us, names without namespaces, template arguments or
parameters, the fastest prefill's 60 us wall and 2 us gap without the earlier GEMM; a trace with no graph kernels, a missing file and a malformed row are errors that say so.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.environ.get("EAQ_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOL = os.path.join(ROOT, "tools", "kernel_trace_summary.py")

failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures += 1


STEP = [  # (start_us, end_us, name) within a step
    (0.0, 2.0, "void eaq::kernels::cuda::(anonymous namespace)::embedding_kernel(void const*, bool, int const*, int, float, float*)"),
    (2.0, 4.0, "void eaq::kernels::cuda::(anonymous namespace)::add_rms_norm_vec4_kernel(float*, float const*, float const*, float, float, int, float*, void*, bool)"),
    (3.5, 10.0, "void eaq::kernels::cuda::(anonymous namespace)::half_matvec_vec8_kernel<false, 1, 1>(unsigned short const*, long long, long long, long long, float const*, float*)"),
    (10.0, 11.0, "void eaq::kernels::cuda::(anonymous namespace)::argmax_next_token_kernel(float const*, int, int*, int*, int*, int*)"),
]


def write_trace(path, with_graph=True):
    with open(path, "w") as f:
        f.write("start_ns,end_ns,graph_id,grid,block,name\n")
        # A benchmark's own GEMM before the prompt (not a prefill's), then a prefill: embedding 100-101 us,
        # a gap, a GEMM 103-150, RoPE 149-160 (overlapping the GEMM's last us).
        f.write('0,50000,0,8x32x1,128x1x1,"nvjet_sm90_hss_128x128_64x6_1x2_h_bz_TNT"\n')
        f.write('100000,101000,0,1x1x1,128x1x1,"void eaq::kernels::cuda::(anonymous namespace)::embedding_kernel(int)"\n')
        f.write('103000,150000,0,8x32x1,128x1x1,"nvjet_sm90_hss_128x128_64x6_1x2_h_bz_TNT"\n')
        f.write('149000,160000,0,1x1x1,128x1x1,"void eaq::kernels::cuda::(anonymous namespace)::rope_kv_write_kernel(int)"\n')
        if with_graph:
            for step in range(3):
                base = 1_000_000 + step * 20_000
                for start, end, name in STEP:
                    f.write(f'{base + int(start * 1000)},{base + int(end * 1000)},7,1x1x1,128x1x1,"{name}"\n')
            # A second, slower prefill (80 us) after the steps: the table is of the fastest.
            f.write('2000000,2001000,0,1x1x1,128x1x1,"void eaq::kernels::cuda::(anonymous namespace)::embedding_kernel(int)"\n')
            f.write('2001000,2080000,0,8x32x1,128x1x1,"nvjet_sm90_hss_128x128_64x6_1x2_h_bz_TNT"\n')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.csv")
        write_trace(trace)
        r = subprocess.run([sys.executable, TOOL, trace], capture_output=True, text=True, timeout=60)
        check("summary runs", r.returncode == 0, r.stderr.strip()[-300:])
        out = r.stdout
        check("three steps of four kernels", out.startswith("3 decode steps, 12 graph kernels (4 a step)"), out[:120])
        check("step wall 11 us", "step wall 11.0 us" in out, out[:160])
        rows = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 5 and parts[0].endswith("_kernel"):
                rows[parts[0]] = [float(x) for x in parts[1:]]
        expected = {"embedding_kernel": (2.0, 2.0), "add_rms_norm_vec4_kernel": (2.0, 2.0),
                    "half_matvec_vec8_kernel": (6.0, 6.5), "argmax_next_token_kernel": (1.0, 1.0)}
        for name, (share, span) in expected.items():
            got = rows.get(name)
            check(f"{name}: share {share} us, span {span} us", got is not None and abs(got[1] - share) < 1e-6
                  and abs(got[3] - span) < 1e-6 and got[0] == 1.0, f"row {got} in\n{out}")
        check("shares add up to the step", abs(sum(v[1] for v in rows.values()) - 11.0) < 1e-6, out)
        prefill = out[out.find("prefills"):]
        check("two prefills, each from its embedding lookup on; the fastest's wall, kernel time and gap",
              prefill.startswith("prefills (kernels outside graphs from an embedding lookup on): 2; the fastest: wall "
                                 "60.0 us (all: mean 70.0), 3 kernels, kernel time 59.0 us, gaps 2.0 us"), out)
        prefill_rows = {line.split()[0]: line.split()[1:] for line in prefill.splitlines()[2:] if line.strip()}
        check("the fastest prefill's kernels: the GEMM's 47 us (not the benchmark's own 50 before it, nor the slower "
              "prefill's 79), RoPE 11, embedding 1",
              prefill_rows.get("nvjet_sm90_hss_128x128_64x6_1x2_h_bz_TNT") == ["1", "47.0", "79.7"] and
              prefill_rows.get("rope_kv_write_kernel") == ["1", "11.0", "18.6"] and
              prefill_rows.get("embedding_kernel") == ["1", "1.0", "1.7"], prefill)

        write_trace(trace, with_graph=False)
        r = subprocess.run([sys.executable, TOOL, trace], capture_output=True, text=True, timeout=60)
        check("no graph kernels: an error naming the cause", r.returncode == 1 and "no kernels ran inside a CUDA graph"
              in r.stderr, f"rc {r.returncode}: {r.stderr.strip()}")
        r = subprocess.run([sys.executable, TOOL, os.path.join(tmp, "missing.csv")], capture_output=True, text=True,
                           timeout=60)
        check("missing trace: an error naming the file", r.returncode == 2 and "missing.csv: cannot read the trace"
              in r.stderr, f"rc {r.returncode}: {r.stderr.strip()}")
        with open(trace, "w") as f:
            f.write("start_ns,end_ns,graph_id,grid,block,name\n12,x,0,1x1x1,1x1x1,k\n")
        r = subprocess.run([sys.executable, TOOL, trace], capture_output=True, text=True, timeout=60)
        check("malformed row: an error naming the line", r.returncode == 2 and "trace.csv:2: not a kernel_trace.cpp row"
              in r.stderr, f"rc {r.returncode}: {r.stderr.strip()}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
