#!/usr/bin/env bash
# Runs seqcast's loom models (loom-tests/tests/*.rs), then the "teeth" checks: the seqlock,
# wake-up, room and multi-word models against deliberately broken builds must fail.
#
#   loom-tests/run.sh                      # LOOM_MAX_PREEMPTIONS=2 by default
#   LOOM_MAX_PREEMPTIONS=3 loom-tests/run.sh
#
# Release builds with debug assertions and overflow checks on (the library's debug_asserts
# are part of what the models check), in their own target dirs (target/loom,
# target/loom-broken) so they do not thrash the main build. Prints each model's executions
# and time; exits non-zero if a model fails or if the broken variant is NOT caught.
set -euo pipefail
cd "$(dirname "$0")/.."

export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export RUST_BACKTRACE=0
# Every model file in loom-tests/tests/, seqlock first.
MODELS=(seqlock)
for f in loom-tests/tests/*.rs; do
    m=$(basename "$f" .rs)
    [[ $m == seqlock ]] || MODELS+=("$m")
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
t_all=$(now)

echo "--- loom: building models (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"
t=$(now)
RUSTFLAGS="--cfg seqcast_loom" CARGO_TARGET_DIR=target/loom \
    cargo test -p loom-tests --release --tests --no-run
echo "built in $(elapsed "$t")"

failed=()
for m in "${MODELS[@]}"; do
    echo "--- loom model file: $m"
    t=$(now)
    if RUSTFLAGS="--cfg seqcast_loom" CARGO_TARGET_DIR=target/loom \
        cargo test -q -p loom-tests --release --test "$m" -- --nocapture --test-threads=1; then
        echo "=== $m: ok in $(elapsed "$t")"
    else
        echo "=== $m: FAILED after $(elapsed "$t")"
        failed+=("$m")
    fi
done

# The topic table's model lives inside the crate (it needs the table's private stand-in for
# arc-swap): run as the crate's own unit test under loom.
echo "--- loom model: bus::loom_model (the crate's unit test)"
t=$(now)
if RUSTFLAGS="--cfg seqcast_loom" CARGO_TARGET_DIR=target/loom \
    cargo test -q -p seqcast --release --lib bus::loom_model -- --nocapture --test-threads=1; then
    echo "=== bus::loom_model: ok in $(elapsed "$t")"
else
    echo "=== bus::loom_model: FAILED after $(elapsed "$t")"
    failed+=("bus::loom_model")
fi

echo "--- loom teeth: seqlock model against --cfg seqcast_loom_broken (completing stamp store Relaxed)"
t=$(now)
log=$(mktemp)
# The broken build compiles only the teeth test, which is #[should_panic(expected = "seqlock
# violation")]: it passes only if loom finds a torn/stale read.
if RUSTFLAGS="--cfg seqcast_loom --cfg seqcast_loom_broken" CARGO_TARGET_DIR=target/loom-broken \
    cargo test -p loom-tests --release --test seqlock -- --nocapture --test-threads=1 2>&1 | tee "$log" \
    && grep -q "^test teeth_relaxed_completing_store_is_caught - should panic" "$log" \
    && grep -q "seqlock violation" "$log" \
    && grep -q "test result: ok. 1 passed" "$log"; then
    echo "=== teeth: the broken variant is caught in $(elapsed "$t"):"
    echo "    $(grep -m1 -o 'seqlock violation.*' "$log")"
else
    echo "=== teeth: FAILED: the broken variant was NOT caught (or did not build) after $(elapsed "$t")"
    failed+=("teeth")
fi
rm -f "$log"

echo "--- loom teeth: wake-up model against --cfg seqcast_loom_broken_wakeup (no publisher-side barrier)"
t=$(now)
log=$(mktemp)
# The broken build compiles only the wake-up teeth test, #[should_panic(expected = "deadlock")]:
# it passes only if loom finds the lost wake-up (every thread blocked).
if RUSTFLAGS="--cfg seqcast_loom --cfg seqcast_loom_broken_wakeup" CARGO_TARGET_DIR=target/loom-broken \
    cargo test -p loom-tests --release --test wakeup -- --nocapture --test-threads=1 2>&1 | tee "$log" \
    && grep -q "deadlock" "$log" \
    && grep -q "test result: ok. 1 passed" "$log"; then
    echo "=== teeth: the lost wake-up is caught in $(elapsed "$t"):"
    echo "    $(grep -m1 -o 'deadlock.*' "$log")"
else
    echo "=== teeth: FAILED: the lost wake-up was NOT caught (or did not build) after $(elapsed "$t")"
    failed+=("teeth-wakeup")
fi
rm -f "$log"

echo "--- loom teeth: room model against --cfg seqcast_loom_broken_room (no gated-subscriber-side barrier)"
t=$(now)
log=$(mktemp)
# The broken build compiles only the room teeth test, #[should_panic(expected = "deadlock")]:
# it passes only if loom finds the publisher parked forever waiting for room.
if RUSTFLAGS="--cfg seqcast_loom --cfg seqcast_loom_broken_room" CARGO_TARGET_DIR=target/loom-broken \
    cargo test -p loom-tests --release --test room -- --nocapture --test-threads=1 2>&1 | tee "$log" \
    && grep -q "deadlock" "$log" \
    && grep -q "test result: ok. 1 passed" "$log"; then
    echo "=== teeth: the lost room wake-up is caught in $(elapsed "$t"):"
    echo "    $(grep -m1 -o 'deadlock.*' "$log")"
else
    echo "=== teeth: FAILED: the lost room wake-up was NOT caught (or did not build) after $(elapsed "$t")"
    failed+=("teeth-room")
fi
rm -f "$log"

echo "--- loom teeth: multi-word model against --cfg seqcast_loom_broken_fence (no writer release fence before the payload words)"
t=$(now)
log=$(mktemp)
# The broken build compiles only the multi-word teeth test, #[should_panic(expected = "torn
# multi-word read")]: it passes only if loom finds a payload mixing words of two messages.
if RUSTFLAGS="--cfg seqcast_loom --cfg seqcast_loom_broken_fence" CARGO_TARGET_DIR=target/loom-broken \
    cargo test -p loom-tests --release --test multiword -- --nocapture --test-threads=1 2>&1 | tee "$log" \
    && grep -q "torn multi-word read" "$log" \
    && grep -q "test result: ok. 1 passed" "$log"; then
    echo "=== teeth: the torn multi-word read is caught in $(elapsed "$t"):"
    echo "    $(grep -m1 -o 'torn multi-word read.*' "$log")"
else
    echo "=== teeth: FAILED: the torn multi-word read was NOT caught (or did not build) after $(elapsed "$t")"
    failed+=("teeth-fence")
fi
rm -f "$log"

echo "--- loom total: $(elapsed "$t_all")"
if ((${#failed[@]})); then
    echo "loom: FAILED: ${failed[*]}"
    exit 1
fi
echo "loom: all models passed, broken variant caught"
