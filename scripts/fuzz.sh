#!/usr/bin/env bash
# Fuzzes ingest's readers with cargo fuzz: each target (delimited, json, workbook) runs for
# SECONDS (default 60) from a seed corpus of the shipped examples, and checks that nothing
# panics and that every loaded cell gives back the text the reader read
# (src/ingest/fuzzing.rs). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# A finding lands in fuzz/artifacts/TARGET/; after fixing it, copy the input into
# fuzz/regressions/TARGET/, which `cargo test --test lossless` replays on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(delimited json workbook)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    case "$target" in
        delimited)
            for f in examples/*.csv examples/*.tsv; do
                { printf '\0'; cat "$f"; } > "$dir/seed-$(basename "$f")"
            done ;;
        json) cp examples/*.json "$dir/" ;;
        workbook) cp examples/*.xlsx "$dir/" ;;
    esac
    if [ -d "fuzz/regressions/$target" ]; then
        cp fuzz/regressions/"$target"/* "$dir/" 2>/dev/null || true
    fi
}

status=0
for target in "${targets[@]}"; do
    seed "$target"
    log="fuzz/out-$target.log"
    echo "== $target: ${seconds}s"
    if ! cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
        >"$log" 2>&1; then
        echo "   FINDING: see $log and fuzz/artifacts/$target/"
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed 's/^/   /' || true
    tail -n 3 "$log" | sed 's/^/   /'
done
exit "$status"
