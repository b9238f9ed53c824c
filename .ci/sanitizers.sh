#!/usr/bin/env bash
# The library's tests under ThreadSanitizer and AddressSanitizer (nightly, -Zbuild-std, so
# that std is instrumented too: without it TSan reports false races inside std).
#
#   .ci/sanitizers.sh            # both
#   .ci/sanitizers.sh tsan       # one of them
#
# Each sanitizer builds in its own target dir (target/tsan, target/asan). Runs the unit and
# integration tests of `seqcast` (no doctests, examples or benches: they add build time and
# test nothing the tests do not), with the stress tests shortened by SEQCAST_STRESS_MESSAGES.
#
# What they see: TSan checks every non-atomic access against the atomics, locks and thread
# joins that order it; ASan checks every access against allocation bounds and lifetimes. Both
# are blind to what inline assembly touches: the payload words (`atomic-maybe-uninit`, the SSE
# pair copy) are checked by loom and Miri instead. TSan does not model standalone fences; the
# payload accesses that the seqlock fences order are exactly those it cannot see, so that
# costs no false reports here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "SKIPPED: no nightly toolchain (sanitizers need -Zsanitizer and -Zbuild-std)"
    exit 0
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "SKIPPED: nightly has no rust-src component (needed by -Zbuild-std)"
    exit 0
fi

host=$(rustc +nightly -vV | sed -n 's/^host: //p')
export SEQCAST_STRESS_MESSAGES="${SEQCAST_STRESS_MESSAGES:-20000}"
export RUST_BACKTRACE=0
# A report fails the test run (TSan by default only prints and exits 66 at the end).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"

now() { date +%s; }
failed=()
sans=("$@")
((${#sans[@]})) || sans=(tsan asan)
for s in "${sans[@]}"; do
    case $s in
        tsan) flag=thread ;;
        asan) flag=address ;;
        *) echo "unknown sanitizer $s (tsan, asan)"; exit 2 ;;
    esac
    echo "--- $s: cargo +nightly test -Zbuild-std -p seqcast --lib --test '*' (SEQCAST_STRESS_MESSAGES=$SEQCAST_STRESS_MESSAGES)"
    t=$(now)
    if RUSTFLAGS="-Zsanitizer=$flag" RUSTDOCFLAGS="-Zsanitizer=$flag" CARGO_TARGET_DIR="target/$s" \
        cargo +nightly test -Zbuild-std --target "$host" --no-fail-fast -p seqcast --lib --test '*'; then
        echo "=== $s: ok in $(( $(now) - t ))s"
    else
        echo "=== $s: FAILED after $(( $(now) - t ))s"
        failed+=("$s")
    fi
done
if ((${#failed[@]})); then
    echo "sanitizers: FAILED: ${failed[*]}"
    exit 1
fi
echo "sanitizers: all passed"
