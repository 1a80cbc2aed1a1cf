#!/usr/bin/env python3
"""Time per kernel of one CUDA decode step and of one prefill, from a trace written by
benchmarks/cuda/kernel_trace.cpp.

    tools/kernel_trace_summary.py trace.csv [--graph-only] [--top N]

The decode step runs as a CUDA graph, so its kernels are the ones with graph_id > 0. Kernels of a
step overlap under programmatic dependent launch (each may start during its predecessor's tail
and wait on the device), so a kernel's start..end span counts its wait too. The table therefore
gives both: `span` (end - start) and `share` (end - the previous kernel's end, the wall time the
step spends until this kernel is done), summed over all replays and divided by the number of steps.
The shares add up to the step's wall time, launch gaps included.
"""
import argparse
import collections
import csv
import re
import sys


def short_name(name: str) -> str:
    """The kernel's function name without namespaces, template arguments or parameters."""
    base = name.replace("(anonymous namespace)::", "").split("(")[0]
    depth, out = 0, []
    for ch in base:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    base = "".join(out).strip()
    base = re.sub(r"^.*\s", "", base)
    return base.split("::")[-1] or name


def print_prefills(rows) -> None:
    """Time per kernel of one prefill: the kernels outside graphs from each embedding lookup up to the
    next embedding lookup or graph kernel (a prefill runs without a graph; kernels of the benchmark's
    own ceilings, such as cuBLAS alone, run before the first embedding lookup and are left out). The
    table is of the fastest prefill (the first of a shape also times the GEMM candidates); its gaps
    are the wall less the time some kernel of it ran (kernels may overlap under PDL)."""
    ordered = sorted(rows)
    prefills = []
    current = None
    for start, end, graph_id, grid, name in ordered:
        if graph_id > 0:
            current = None
            continue
        if "embedding" in short_name(name):
            current = []
            prefills.append(current)
        if current is not None:
            current.append((start, end, grid, name))
    if not prefills:
        return
    walls = [p[-1][1] - p[0][0] for p in prefills]
    fastest = prefills[walls.index(min(walls))]
    t = collections.defaultdict(float)
    n = collections.Counter()
    busy = 0
    covered_to = fastest[0][0]
    for start, end, _, name in fastest:
        t[short_name(name)] += end - start
        n[short_name(name)] += 1
        busy += max(0, end - max(start, covered_to))
        covered_to = max(covered_to, end)
    kernel_time = sum(t.values())
    wall = min(walls)
    print(f"\nprefills (kernels outside graphs from an embedding lookup on): {len(prefills)}; the fastest: wall "
          f"{wall / 1e3:.1f} us (all: mean {sum(walls) / len(walls) / 1e3:.1f}), {len(fastest)} kernels, kernel time "
          f"{kernel_time / 1e3:.1f} us, gaps {(wall - busy) / 1e3:.1f} us")
    print(f"  {'kernel':48s} {'calls':>9s} {'us':>9s} {'%':>6s}")
    for key, s in sorted(t.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {key[:48]:48s} {n[key]:9d} {s / 1e3:9.1f} {100 * s / kernel_time:6.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--full-names", action="store_true", help="keep template arguments in names")
    args = ap.parse_args()

    rows = []
    try:
        with open(args.trace, newline="") as f:
            for line_no, r in enumerate(csv.DictReader(f), start=2):
                try:
                    rows.append((int(r["start_ns"]), int(r["end_ns"]), int(r["graph_id"]), r["grid"], r["name"]))
                except (KeyError, TypeError, ValueError) as e:
                    print(f"{args.trace}:{line_no}: not a kernel_trace.cpp row ({e!r}); expected columns "
                          "start_ns,end_ns,graph_id,grid,block,name", file=sys.stderr)
                    return 2
    except OSError as e:
        print(f"{args.trace}: cannot read the trace: {e.strerror}", file=sys.stderr)
        return 2
    if not rows:
        print(f"{args.trace}: no kernels traced", file=sys.stderr)
        return 1
    graph = sorted(r for r in rows if r[2] > 0)
    if not graph:
        print(f"{args.trace}: no kernels ran inside a CUDA graph (is the decode step captured?)", file=sys.stderr)
        return 1
    # A step is one replay of the graph: kernels of the first step name the sequence; a new step
    # starts at each kernel with the first kernel's name after a gap.
    first_name = graph[0][4]
    steps = sum(1 for r in graph if r[4] == first_name)
    span = collections.defaultdict(float)
    share = collections.defaultdict(float)
    count = collections.Counter()
    prev_end = None
    step_walls = []
    step_start = None
    for start, end, _, grid, name in graph:
        key = name if args.full_names else short_name(name)
        if name == first_name:
            if step_start is not None:
                step_walls.append(prev_end - step_start)
            step_start = start
            prev_end = start
        span[key] += end - start
        share[key] += max(0, end - prev_end)
        count[key] += 1
        prev_end = max(prev_end, end)
    step_walls.append(prev_end - step_start)
    total_share = sum(share.values())
    step_us = sum(step_walls) / len(step_walls) / 1e3
    print(f"{steps} decode steps, {len(graph)} graph kernels ({len(graph) / steps:.0f} a step); "
          f"step wall {step_us:.1f} us (median {sorted(step_walls)[len(step_walls) // 2] / 1e3:.1f})")
    print(f"{'kernel':48s} {'a step':>6s} {'share us':>9s} {'%':>6s} {'span us':>9s}")
    for key, s in sorted(share.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{key[:48]:48s} {count[key] / steps:6.1f} {s / steps / 1e3:9.1f} {100 * s / total_share:6.1f} "
              f"{span[key] / steps / 1e3:9.1f}")
    print_prefills(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
