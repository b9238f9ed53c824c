#!/bin/bash
# Runs the bridge and faults test binaries N times, two of each at once, beside a CPU hog.
N=${1:-10}
cd /work/wt-nats
B=target/debug/deps/$(ls -t target/debug/deps | grep -E '^bridge-[0-9a-f]+$' | head -1)
F=target/debug/deps/$(ls -t target/debug/deps | grep -E '^faults-[0-9a-f]+$' | head -1)
export SEQCAST_REQUIRE_NATS=1
# Two busy loops: the cores are shared with everything else.
( while :; do :; done ) & H1=$!
( while :; do :; done ) & H2=$!
trap "kill $H1 $H2" EXIT
pass=0; fail=0
for i in $(seq 1 $N); do
  $B > /tmp/nb/stress/b1-$i.log 2>&1 & p1=$!
  $B > /tmp/nb/stress/b2-$i.log 2>&1 & p2=$!
  $F > /tmp/nb/stress/f1-$i.log 2>&1 & p3=$!
  $F > /tmp/nb/stress/f2-$i.log 2>&1 & p4=$!
  for p in $p1 $p2 $p3 $p4; do
    if wait $p; then pass=$((pass+1)); else fail=$((fail+1)); echo "iteration $i: pid $p FAILED"; fi
  done
  echo "iteration $i done: pass=$pass fail=$fail"
done
echo "TOTAL pass=$pass fail=$fail"
