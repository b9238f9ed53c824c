#!/bin/bash
N=${1:-10}; FILTER=$2
cd /work/wt-nats
F=target/debug/deps/$(ls -t target/debug/deps | grep -E '^faults-[0-9a-f]+$' | head -1)
export SEQCAST_REQUIRE_NATS=1
( while :; do :; done ) & H1=$!
( while :; do :; done ) & H2=$!
trap "kill $H1 $H2" EXIT
fail=0
for i in $(seq 1 $N); do
  for k in 1 2 3 4; do $F $FILTER > /tmp/nb/stress/s-$i-$k.log 2>&1 & done
  for k in 1 2 3 4; do wait -n || fail=$((fail+1)); done
done
echo "TOTAL runs=$((N*4)) fail=$fail"
