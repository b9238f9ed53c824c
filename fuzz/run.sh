#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 60 each),
# starting from the committed seed corpus (fuzz/corpus/<target>/seed-*). Installs cargo-fuzz
# if missing. cargo-fuzz needs unstable rustc flags: RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. Prints the executions run per target (libFuzzer's final stats);
# exits non-zero on a crash (the reproducer lands in fuzz/artifacts/<target>/).
#
#   fuzz/run.sh                       # every target, 60 s each
#   FUZZ_SECONDS=600 fuzz/run.sh ring_ops
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
SECONDS_EACH="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "--- installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

echo "--- building fuzz targets: ${targets[*]}"
# -a: keep debug assertions on (the library's debug_asserts are checks too).
for t in "${targets[@]}"; do
    cargo fuzz build -a "$t"
done

failed=()
for t in "${targets[@]}"; do
    echo "--- fuzzing $t for ${SECONDS_EACH}s"
    mkdir -p "fuzz/corpus/$t"
    log=$(mktemp)
    # -rss_limit_mb: the inputs are small; a blow-up is a bug worth reporting.
    if cargo fuzz run -a "$t" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -rss_limit_mb=2048 >"$log" 2>&1; then
        runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        echo "=== $t: ok, $runs executions in ${SECONDS_EACH}s ($(grep -m1 '^Done' "$log" || true))"
    else
        echo "=== $t: CRASH"
        grep -E 'panicked' -A2 "$log" | head -6 || true
        grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -60
        failed+=("$t")
    fi
    rm -f "$log"
done

if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (reproducers in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: all targets ran without a crash"
