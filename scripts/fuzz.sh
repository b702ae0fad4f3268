#!/usr/bin/env bash
# Fuzzes with libFuzzer. The reader targets (delimited, json, workbook) start from a seed
# corpus (the shipped examples and the kept findings) and check that nothing panics and that
# every loaded cell gives back the text the reader read (src/ingest/fuzzing.rs); the fields
# target puts one cell's text through every validation field type, format and option, and the
# schema target loads each input as a schema descriptor (src/validate/fuzzing.rs).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60); the
#                                                corpus grows in fuzz/corpus/TARGET
#   bash scripts/fuzz.sh --smoke [TARGET...]     what CI runs: each target on a fixed number
#                                                of inputs from a fixed seed, so every run
#                                                tries the same inputs
#
# The targets are built with the coverage instrumentation cargo-fuzz would add (stable Rust
# flags, no cargo-fuzz or nightly needed; no sanitizer, since rssd is safe Rust apart from two
# documented calls), with debug assertions and overflow checks on, into target/fuzz.
# A finding lands in fuzz/artifacts/TARGET/; after fixing it, copy the input into
# fuzz/regressions/TARGET/, which `cargo nextest run -E 'test(/^lossless::/)'` replays on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
seconds=60
if [ "${1:-}" = "--smoke" ]; then
    smoke=true
    shift
elif [ "$#" -gt 0 ]; then
    seconds="$1"
    shift
fi
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(delimited json workbook fields schema)
# Inputs per target in a smoke run: about ten seconds each on a 2-core machine.
declare -A smoke_runs=([delimited]=2000 [json]=4000 [workbook]=5000 [fields]=200000 [schema]=20000)

triple="$(rustc -vV | sed -n 's/^host: //p')"
coverage="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
coverage+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
coverage+=" -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
coverage+=" -Cdebug-assertions -Coverflow-checks"
echo "== building the fuzz targets (target/fuzz)"
# --target keeps the instrumentation off build scripts and proc macros.
RUSTFLAGS="$coverage" cargo build --quiet --locked --release --bins \
    --manifest-path fuzz/Cargo.toml --target "$triple" --target-dir target/fuzz
bin="target/fuzz/$triple/release"

seed() {
    local target="$1" dir="$2"
    mkdir -p "$dir"
    case "$target" in
        delimited)
            for f in examples/*.csv examples/*.tsv; do
                { printf '\0'; cat "$f"; } > "$dir/seed-$(basename "$f")"
            done ;;
        json) cp examples/*.json "$dir/" ;;
        workbook) cp examples/*.xlsx "$dir/" ;;
        fields)
            local i=0 value
            for value in 2024-02-29 31/12/1999 13:45 2024-01-02T03:04:05Z 1.234,5 -7 1e3 \
                P1Y2M3DT4H5M6S 2024-07 '90, 45' '[90,45]' '{"lon":1,"lat":2}' '{"a":[1]}' \
                user@example.org https://example.org/a 123e4567-e89b-12d3-a456-426614174000 \
                oui NA Ab; do
                printf '%s' "$value" > "$dir/seed-$i"
                i=$((i + 1))
            done ;;
        schema)
            # The first byte picks JSON (even) or YAML (odd).
            for f in tests/validation-corpus/*.json tests/validation-corpus/*.yaml; do
                [ -f "$f" ] || continue
                case "$f" in *.yaml) pick=1 ;; *) pick=0 ;; esac
                { printf "\\$pick"; cat "$f"; } > "$dir/seed-$(basename "$f")"
            done ;;
    esac
    if [ -d "fuzz/regressions/$target" ]; then
        cp fuzz/regressions/"$target"/* "$dir/" 2>/dev/null || true
    fi
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for target in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$target"
    log="fuzz/out-$target.log"
    if $smoke; then
        corpus="$scratch/$target"
        limit=(-runs="${smoke_runs[$target]}" -seed=1)
        echo "== $target: ${smoke_runs[$target]} inputs (smoke, seed 1)"
    else
        corpus="fuzz/corpus/$target"
        limit=(-max_total_time="$seconds")
        echo "== $target: ${seconds}s"
    fi
    seed "$target" "$corpus"
    if ! "$bin/$target" "$corpus" "${limit[@]}" -rss_limit_mb=4096 -timeout=30 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1; then
        echo "   FINDING: see $log and fuzz/artifacts/$target/"
        grep -m1 -A3 "panicked at" "$log" | sed 's/^/   /' || true
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed 's/^/   /' || true
done
exit "$status"
