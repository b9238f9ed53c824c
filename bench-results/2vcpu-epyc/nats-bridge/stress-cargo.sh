#!/bin/bash
# As stress.sh, but the load is a parallel release build of the whole workspace from scratch.
N=${1:-5}
cd /work/wt-nats
B=target/debug/deps/$(ls -t target/debug/deps | grep -E '^bridge-[0-9a-f]+$' | head -1)
F=target/debug/deps/$(ls -t target/debug/deps | grep -E '^faults-[0-9a-f]+$' | head -1)
export SEQCAST_REQUIRE_NATS=1
rm -rf /tmp/nb/loadtarget
( cargo build --release --workspace --all-targets --target-dir /tmp/nb/loadtarget > /tmp/nb/loadbuild.log 2>&1 ) & L=$!
pass=0; fail=0
for i in $(seq 1 $N); do
  $B > /tmp/nb/stress/cb1-$i.log 2>&1 & p1=$!
  $B > /tmp/nb/stress/cb2-$i.log 2>&1 & p2=$!
  $F > /tmp/nb/stress/cf1-$i.log 2>&1 & p3=$!
  $F > /tmp/nb/stress/cf2-$i.log 2>&1 & p4=$!
  for p in $p1 $p2 $p3 $p4; do
    if wait $p; then pass=$((pass+1)); else fail=$((fail+1)); echo "iteration $i: FAILED"; fi
  done
done
echo "build still running: $(kill -0 $L 2>/dev/null && echo yes || echo no)"
kill $L 2>/dev/null; wait $L 2>/dev/null
echo "TOTAL pass=$pass fail=$fail"
