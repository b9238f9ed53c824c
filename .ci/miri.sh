#!/usr/bin/env bash
# The library's tests under Miri (nightly `cargo miri`), on the portable path: under
# `cfg(miri)` the wake-up protocol uses its symmetric fences (no membarrier), the payload copy
# is the word loop (no SSE asm) and payload words are std `AtomicU64`s (`src/sync.rs`), so
# payloads with padding bytes are not checked (those tests are ignored under Miri).
#
#   .ci/miri.sh                  # the test files below
#   .ci/miri.sh ring gated       # some of them
#
# Not run: shm (mmap, flock and raw syscalls Miri does not support), alloc (10 000 sends
# counted by a global allocator: minutes under Miri, and it checks allocation counts, not
# memory safety), doctests, examples and the benches. Stress and differential sizes are cut down (Miri interprets
# every step, some 10^3 to 10^4 times slower than native code).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "SKIPPED: no nightly toolchain with the miri component"
    exit 0
fi

TESTS=("$@")
((${#TESTS[@]})) || TESTS=(ring bus bus_names bus_patterns gated wait differential record_differential stress stress_pairs stress_batch bus_concurrency reentrant_wake async_send)
export SEQCAST_STRESS_MESSAGES="${SEQCAST_STRESS_MESSAGES:-200}"
export RUST_BACKTRACE=0
# The timer thread (src/timer.rs) never exits by design; without this Miri fails every test
# binary that set an alarm ("main thread terminated without waiting for all threads").
# Miri's isolation hides the host environment: forward the size the stress tests read.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-ignore-leaks} -Zmiri-env-forward=SEQCAST_STRESS_MESSAGES"

now() { date +%s; }
failed=()
t=$(now)
echo "--- miri: unit tests (cargo +nightly miri test -p seqcast --lib)"
cargo +nightly miri test -p seqcast --lib || failed+=(lib)
echo "=== miri lib: $(( $(now) - t ))s"
for name in "${TESTS[@]}"; do
    t=$(now)
    echo "--- miri: tests/$name.rs (SEQCAST_STRESS_MESSAGES=$SEQCAST_STRESS_MESSAGES)"
    flags=$MIRIFLAGS
    # The fuzz regression inputs are read from tests/regressions/: file system access.
    [[ $name == differential ]] && flags+=" -Zmiri-disable-isolation"
    if MIRIFLAGS=$flags cargo +nightly miri test -p seqcast --test "$name"; then
        echo "=== miri $name: ok in $(( $(now) - t ))s"
    else
        echo "=== miri $name: FAILED after $(( $(now) - t ))s"
        failed+=("$name")
    fi
done
if ((${#failed[@]})); then
    echo "miri: FAILED: ${failed[*]}"
    exit 1
fi
echo "miri: all passed"
