#!/bin/bash
# Before/after, interleaved in one session: the same example (this branch's
# seqcast-nats/examples/throughput.rs) built against main's library (fc79777) and against this
# branch's, run alternately, each run against a nats-server of its own.
#   before: git archive fc79777 | tar -x -C /tmp/old; copy this branch's example into it;
#           (cd /tmp/old && cargo build --release -p seqcast-nats --example throughput)
#   after:  cargo build --release -p seqcast-nats --example throughput (branch head)
set -e
BEFORE=${BEFORE:-/tmp/nb/throughput-before}
AFTER=${AFTER:-/tmp/nb/throughput-after}
OUT=$(dirname "$0")
for pair in 1 2 3; do
  for which in before after; do
    bin=$BEFORE; [ $which = after ] && bin=$AFTER
    echo "== $which (pair $pair) $(date -u +%FT%TZ)"
    $bin --rounds 3
  done
done 2>&1 | tee "$OUT/interleaved.txt"
