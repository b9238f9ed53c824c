#!/usr/bin/env bash
# Runs seqcast's loom models (loom-tests/tests/*.rs, and the crate's own unit-test models
# bus::loom_model and ring::claim::loom_model), then the "teeth" checks: the seqlock, wake-up,
# room, multi-word, batch, pattern wake-up, record, select, shared-record and claim models against
# deliberately broken builds must fail.
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

# The ticket protocol of publishers that may die (ring::claim) is modelled from the crate's
# private Tickets and Slot, so it too runs as the crate's own unit test.
echo "--- loom model: ring::claim::loom_model (the crate's unit test)"
t=$(now)
if RUSTFLAGS="--cfg seqcast_loom" CARGO_TARGET_DIR=target/loom \
    cargo test -q -p seqcast --release --lib ring::claim::loom_model -- --nocapture --test-threads=1; then
    echo "=== ring::claim::loom_model: ok in $(elapsed "$t")"
else
    echo "=== ring::claim::loom_model: FAILED after $(elapsed "$t")"
    failed+=("ring::claim::loom_model")
fi

# teeth_check CFG LABEL EXPECTED WHAT CARGO_TEST_ARGS...: the build with `--cfg CFG` compiles
# only the teeth model among those CARGO_TEST_ARGS select, which is
# #[should_panic(expected = EXPECTED)]: it passes only if loom finds WHAT.
teeth_check() {
    local cfg=$1 label=$2 expected=$3 what=$4 t log
    shift 4
    echo "--- loom teeth: $label against --cfg $cfg ($what)"
    t=$(now)
    log=$(mktemp)
    if RUSTFLAGS="--cfg seqcast_loom --cfg $cfg" CARGO_TARGET_DIR=target/loom-broken \
        cargo test "$@" -- --nocapture --test-threads=1 2>&1 \
        | tee "$log" \
        && grep -q "$expected" "$log" \
        && grep -q "test result: ok. 1 passed" "$log"; then
        echo "=== teeth: $what is caught in $(elapsed "$t"):"
        echo "    $(grep -m1 -o "$expected.*" "$log")"
    else
        echo "=== teeth: FAILED: $what was NOT caught (or did not build) after $(elapsed "$t")"
        failed+=("teeth-$cfg")
    fi
    rm -f "$log"
}

# teeth CFG TEST EXPECTED WHAT: a model file of loom-tests/tests.
teeth() {
    teeth_check "$1" "$2 model" "$3" "$4" -p loom-tests --release --test "$2"
}

# teeth_lib CFG FILTER EXPECTED WHAT: a model inside the crate, run as the seqcast lib's unit
# tests matching FILTER.
teeth_lib() {
    teeth_check "$1" "$2" "$3" "$4" -p seqcast --release --lib "$2"
}

teeth seqcast_loom_broken seqlock "seqlock violation" \
    "a stale read (completing stamp store Relaxed)"
teeth seqcast_loom_broken replay "seqlock violation" \
    "a stale read by a replaying subscriber racing a lap (completing stamp store Relaxed)"
teeth seqcast_loom_broken_wakeup wakeup "deadlock" \
    "a lost wake-up (no publisher-side barrier)"
teeth seqcast_loom_broken_room room "deadlock" \
    "a lost room wake-up (no gated-subscriber-side barrier)"
teeth seqcast_loom_broken_fence multiword "torn multi-word read" \
    "a torn multi-word read (no writer release fence before the payload words)"
teeth seqcast_loom_broken_run batch "seqlock violation" \
    "an overwritten copy delivered by a run read (no fence before the stamp re-checks)"
teeth seqcast_loom_broken_pattern pattern_wake "maximum number of branches" \
    "a pattern subscriber's lost wake-up (no re-check after registering)"
teeth seqcast_loom_broken_record record "record violation" \
    "a lost record (record reader skips its message-number check)"
teeth seqcast_loom_broken_select select "maximum number of branches" \
    "a Select's lost wake-up (no re-check after registering)"
teeth seqcast_loom_broken_attach shared_record "attach violation" \
    "a subscriber made without the lock starting one record early (attach drops the + 1)"
teeth seqcast_loom_broken_close shared_record "close violation" \
    "a ring left open by a close racing a send (close protocol without its SeqCst fence)"
teeth_lib seqcast_loom_broken_unblock ring::claim::loom_model "unblock violation" \
    "a live owner's ticket abandoned (no CLAIMING owner word before the claim)"
teeth_lib seqcast_loom_broken_run_owner ring::claim::loom_model "unblock violation" \
    "a live batch owner's second ticket abandoned (unblock ignores the owner record's len)"

echo "--- loom total: $(elapsed "$t_all")"
if ((${#failed[@]})); then
    echo "loom: FAILED: ${failed[*]}"
    exit 1
fi
echo "loom: all models passed, broken variant caught"
