#!/usr/bin/env bash
# Interleaved A/B of the records rows: compare-base (1e7dc72) vs compare-new, one round per
# process, the order of the two alternating each round.
set -eu
OUT=${OUT:-/tmp/ab/runs}
ROUNDS=${ROUNDS:-7}
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then order="base new"; else order="new base"; fi
  for v in $order; do
    echo "=== round $r $v $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    ${BINS:-/tmp/bins}/compare-$v --bench --runs records \
      --rec-libs seqcast-record,tokio-bytes \
      --rec-sizes 32,256,4096 --rec-rounds 1 --out "$OUT/$v-r$r" > "$OUT/$v-r$r.log" 2>&1 || echo "   (run failed: see log)"
  done
done
