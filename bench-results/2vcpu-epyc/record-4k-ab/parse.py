#!/usr/bin/env python3
"""Medians over interleaved A/B runs of the compare harness's records rows.

Per variant (base, new), record size and row: median useful M/s, publish M/s, lost %, the
summed 'preempt' count, and the latency p50; and the median over runs of each run's own
seqcast-record / tokio-bytes useful ratio (both rows ran in the same process, seconds apart,
so the ratio is less exposed to the load drifting between runs)."""
import glob, os, re, statistics as st, sys
d = sys.argv[1]
tp, lat = {}, {}
# Either the harness's --out folders (RUN/table.txt) or their tables copied as RUN.txt.
files = [(os.path.basename(os.path.dirname(t)), t) for t in glob.glob(os.path.join(d, "*-r*/table.txt"))]
files += [(os.path.basename(t)[:-4], t) for t in glob.glob(os.path.join(d, "*-r*.txt"))]
for run, t in sorted(files):
    v = run.split("-r")[0]
    sec = None
    for line in open(t):
        if line.startswith("-- one-way latency"): sec = "lat"
        elif line.startswith("-- throughput"): sec = "tp"
        m = re.match(r"(seqcast-record|tokio-bytes)\s+\S+\s+(\d+) B\s+(.*)", line)
        if not m or not sec: continue
        lib, size, rest = m.group(1), int(m.group(2)), m.group(3).split()
        if sec == "tp":
            # publish, useful, useful MB/s, lost %, preempt, per round
            tp[(run, v, lib, size)] = (float(rest[0]), float(rest[1]), float(rest[3].rstrip('%')), int(rest[4]))
        else:
            p50 = rest[-1]
            lat[(run, v, lib, size)] = float(p50[:-2]) * 1000 if p50.endswith("us") else float(p50)
def col(v, lib, size, i):
    return [x[i] for (r, vv, l, s), x in sorted(tp.items()) if vv == v and l == lib and s == size]
print(f"{'size':>5}  {'row':<15} {'var':<5} {'useful M/s':>10} {'publish M/s':>11} {'lost %':>7} {'preempt':>8} {'lat p50 ns':>11}   useful per run")
for size in (32, 256, 4096):
    for lib in ("seqcast-record", "tokio-bytes"):
        for v in ("base", "new"):
            u = col(v, lib, size, 1)
            if not u: continue
            l = [x for (r, vv, ll, s), x in sorted(lat.items()) if vv == v and ll == lib and s == size]
            print(f"{size:>5}  {lib:<15} {v:<5} {st.median(u):>10.3f} {st.median(col(v, lib, size, 0)):>11.2f} "
                  f"{st.median(col(v, lib, size, 2)):>7.1f} {sum(col(v, lib, size, 3)):>8} {st.median(l):>11.0f}   "
                  + " ".join(f"{x:.2f}" for x in u))
    for v in ("base", "new"):
        rs = []
        for (r, vv, l, s), x in tp.items():
            if vv == v and l == "seqcast-record" and s == size and (r, v, "tokio-bytes", s) in tp:
                rs.append(x[1] / tp[(r, v, "tokio-bytes", s)][1])
        if rs:
            print(f"{size:>5}  seqcast/tokio   {v:<5} {st.median(rs):>9.2f}x  (median of per-run ratios: {' '.join(f'{x:.2f}' for x in sorted(rs))})")
