#!/usr/bin/env python3
"""Medians of interleaved.txt: per build (before/after), each measurement's median over all
rounds, and the median of the per-round ratio bridge / raw (raw and bridge run back to back
in the same round, so the ratio cancels part of the machine's drift)."""
import re, statistics, sys, os
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "interleaved.txt")
rows = {}   # (build, key) -> [values]
ratios = {} # (build, key) -> [ratios]
build = None
last = {}
for line in open(path):
    m = re.match(r"== (before|after)", line)
    if m:
        build = m.group(1); continue
    m = re.match(r"throughput (raw|bridge)\s+(\d+) B: \d+ msgs ->\s+(\d+)", line)
    if m:
        kind, size, v = m.group(1), m.group(2), float(m.group(3))
        key = f"throughput {size} B (msg/s)"
        rows.setdefault((build, f"{key} {kind}"), []).append(v)
        if kind == "raw": last[key] = v
        else: ratios.setdefault((build, f"{key} bridge/raw"), []).append(v / last[key])
        continue
    m = re.match(r"round trip (\S+)\s+16 B: \d+ samples, p50 (\d+)", line)
    if m:
        kind, v = m.group(1), float(m.group(2))
        key = "round trip p50 (µs)"
        rows.setdefault((build, f"{key} {kind}"), []).append(v)
        if kind == "raw": last[key] = v
        else: ratios.setdefault((build, f"{key} {kind}/raw"), []).append(v / last[key])
        continue
    m = re.match(r"idle cpu .*: (\d+) ms CPU over ([\d.]+) s", line)
    if m:
        rows.setdefault((build, "idle CPU, 4 forwardings + 4 deliveries (ms per 5 s)"), []).append(float(m.group(1)))
keys = []
for (_, k) in list(rows) + list(ratios):
    if k not in keys: keys.append(k)
print(f"{'measurement':58} {'before':>10} {'after':>10}   (median; n per build)")
for k in keys:
    src = ratios if "/raw" in k else rows
    cells = []
    for b in ("before", "after"):
        vals = src.get((b, k), [])
        if not vals: cells.append(f"{'-':>10}"); continue
        med = statistics.median(vals)
        cells.append(f"{med:>10.2f}" if "/raw" in k else f"{med:>10.0f}")
    n = len(src.get(("after", k), []))
    print(f"{k:58} {cells[0]} {cells[1]}   n={n}")
