#!/usr/bin/env bash
# Time and peak memory of `rssd issues` and `rssd report` on one session with N issues
# (default 1,000,000), to show that listing streams and reports summarise.
#
#   bash bench/report-memory.sh [N]
#
# The session is made by the ignored test `report::make_a_session_with_many_issues` (tests/report.rs:
# the library API plus one bulk INSERT); the commands measured are the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-1000000}"
OUT=bench/out/report-memory
mkdir -p "$OUT"
[ -x /usr/bin/time ] || bash scripts/setup.sh

cargo build --release --quiet
DB="$OUT/many.sqlite.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
started=$(date +%s.%N)
RSSD_MANY_ISSUES_DB="$PWD/$DB" RSSD_MANY_ISSUES="$N" \
    cargo test --quiet --test tests report::make_a_session_with_many_issues -- --ignored --exact >/dev/null
echo "made a session with $N issues in $(echo "$(date +%s.%N) - $started" | bc) s ($(du -h "$DB" | cut -f1))"
RSSD=./target/release/rssd
SESSION=$("$RSSD" -d "$DB" sessions --format csv | sed -n 2p | cut -d, -f1)

printf '%-14s %12s %10s %14s\n' command peak_rss_kib wall output_bytes
measure() {
    local name=$1
    shift
    /usr/bin/time -v -o "$OUT/$name.time" "$RSSD" -d "$DB" "$@" >"$OUT/$name.out"
    local rss wall
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/$name.time")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/$name.time")
    printf '%-14s %12s %10s %14s\n' "$name" "$rss" "$wall" "$(stat -c %s "$OUT/$name.out")"
}
measure issues-csv issues "$SESSION" --format csv
measure issues-json issues "$SESSION" --format json
measure issues-table issues "$SESSION"
measure report-md report "$SESSION" --format md
measure report-json report "$SESSION" --format json
measure report-html report "$SESSION" --format html

lines=$(wc -l <"$OUT/issues-csv.out")
if [ "$lines" -ne $((N + 1)) ]; then
    echo "issues --format csv wrote $lines lines, expected $((N + 1))" >&2
    exit 1
fi
echo "issues --format csv: all $N issues listed"
