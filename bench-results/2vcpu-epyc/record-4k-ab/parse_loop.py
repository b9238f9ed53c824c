#!/usr/bin/env python3
import re, statistics, sys
d = {}
v = None
for line in open(sys.argv[1]):
    if line.startswith("== "): v = line.split()[1]; continue
    m = re.match(r"(\d+) B: 1-thread send\+recv (\d+) ns, send only (\d+) ns; 2-thread gated (\d+) ns/record", line)
    if m:
        size = int(m.group(1))
        for k, x in zip(("1-thread send+recv", "1-thread send only", "2-thread gated"), m.groups()[1:]):
            d.setdefault((size, k, v), []).append(int(x))
for size in (32, 256, 4096):
    for k in ("1-thread send+recv", "1-thread send only", "2-thread gated"):
        row = [f"{size:>5} B {k:<20}"]
        for v in sorted({kk[2] for kk in d}):
            xs = d.get((size, k, v), [])
            if xs: row.append(f"{v}: {statistics.median(xs):>6.0f} ns (runs {' '.join(map(str, xs))})")
        print("  ".join(row))
