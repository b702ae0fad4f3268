#!/usr/bin/env bash
# What drift against the previous delivery costs a run of many small files: the same second
# delivery (every file changed, so every table is loaded and compared) timed with rssd and,
# when BASE names an rssd binary built without drift, with that one, in one run, and the ratio.
#
# Usage: bash bench/drift.sh                        (FILES=2000 ROWS=20 RUNS=3)
#        BASE=/tmp/rssd-base RSSD=target/debug/rssd bash bench/drift.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-2000}
ROWS=${ROWS:-20}
RUNS=${RUNS:-3}
RSSD=${RSSD:-}
if [ -z "$RSSD" ]; then
    cargo build --release --locked -q
    RSSD=target/release/rssd
fi
WORK=$(mktemp -d /tmp/rssd-drift-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$FILES" "$ROWS" <<'EOF'
import os, sys
work, files, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for delivery, header in ((1, "id,name,age,city"), (2, "id,name,email,age")):
    folder = os.path.join(work, f"d{delivery}")
    os.makedirs(folder)
    for f in range(files):
        with open(os.path.join(folder, f"f{f:05}.csv"), "w") as out:
            out.write(header + "\n")
            for r in range(rows - (delivery - 1) * rows // 2):
                out.write(f"{r},P{r},{20 + r % 50},x{r}\n")
EOF

# Seconds for the second delivery into an RSSD that holds the first.
second_delivery() {
    local binary=$1 db=$WORK/bench.db
    rm -f "$db" "$db-wal" "$db-shm"
    "$binary" -d "$db" ingest "$WORK/d1" --no-progress --fail-on never >/dev/null
    local start end
    start=$(date +%s.%N)
    "$binary" -d "$db" ingest "$WORK/d2" --no-progress --fail-on never >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

best() {
    local binary=$1 best=
    for _ in $(seq "$RUNS"); do
        local t
        t=$(second_delivery "$binary")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}

echo "second delivery of $FILES files of $ROWS rows (best of $RUNS)"
if [ -n "${BASE:-}" ]; then
    without=$(best "$BASE")
    printf '  base (%s): %.3f s\n' "$BASE" "$without"
fi
with=$(best "$RSSD")
printf '  rssd (%s): %.3f s\n' "$RSSD" "$with"
if [ -n "${BASE:-}" ]; then
    printf '  ratio rssd/base: %.3f\n' "$(echo "$with / $without" | bc -l)"
fi
issues=$(sqlite3 "$WORK/bench.db" "SELECT count(*) FROM orchestration_session_issue WHERE issue_type IN ('Schema Drift', 'Row Count Change')" 2>/dev/null || echo "?")
echo "  drift issues in the last RSSD: $issues"
