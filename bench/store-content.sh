#!/usr/bin/env bash
# What keeping each file's bytes in uniform_resource.content costs: the 1,000,000-row ingest
# with --store-content (the default) against --no-store-content, in one run, each a fresh RSSD,
# RUNS times alternating, best of each. Prints wall and CPU times, peak RSS and the ratio
# (goal: at most 1.25), the medians, and the CPU time the host stole meanwhile (a shared VM
# is noisy). Generates its own data (bench/gen.py, standard library only).
#
# Usage: bash bench/store-content.sh        (ROWS=1000000 RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
WORK=${BENCH_DIR:-$ROOT/bench/out}
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd
mkdir -p "$WORK"
cd "$WORK"
[ -f data.csv ] && [ "$(($(wc -l <data.csv) - 1))" = "$ROWS" ] || python3 "$ROOT/bench/gen.py" csv data.csv "$ROWS"
echo "data: data.csv $ROWS rows ($(du -m data.csv | cut -f1) MB)"

# once FLAG: one ingest into a fresh RSSD; prints "wall cpu rss_mb".
once() {
    local db=$WORK/store-content.sqlite.db log
    rm -f "$db" "$db-wal" "$db-shm"
    log=$(mktemp)
    sync
    /usr/bin/time -v -o "$log" "$RSSD" -d "$db" ingest data.csv --no-progress \
        --store-content-limit 1G "$1" >/dev/null
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; w=s}
                /User time|System time/ {c += $2}
                /Maximum resident set size/ {r = $2/1024}
                END {printf "%.2f %.2f %.0f\n", w, c, r}' "$log"
    if [ "$1" = --store-content ]; then
        local stored
        stored=$(sqlite3 "$db" "SELECT length(content) FROM uniform_resource" 2>/dev/null || echo "?")
        [ "$stored" = "$(stat -c %s data.csv)" ] || echo "!! content not stored whole ($stored bytes)" >&2
    fi
    rm -f "$log" "$db" "$db-wal" "$db-shm"
}
off=() on=()
steal() { awk 'NR == 1 {print $9}' /proc/stat; }
STEAL0=$(steal)
for _ in $(seq "$RUNS"); do
    off+=("$(once --no-store-content)")
    on+=("$(once --store-content)")
done
STOLEN=$(( $(steal) - STEAL0 ))
pick() { printf '%s\n' "$@" | sort -n | head -1; }
median() { printf '%s\n' "$@" | sort -n | awk '{w[NR] = $1} END {print w[int((NR + 1) / 2)]}'; }
OFF=$(pick "${off[@]}")
ON=$(pick "${on[@]}")
read -r W0 C0 R0 <<<"$OFF"
read -r W1 C1 R1 <<<"$ON"
printf '%-22s %8.2f s wall %7.2f s cpu %6s MB\n' "--no-store-content" "$W0" "$C0" "$R0"
printf '%-22s %8.2f s wall %7.2f s cpu %6s MB\n' "--store-content" "$W1" "$C1" "$R1"
awk -v a="$W1" -v b="$W0" -v c="$C1" -v d="$C0" 'BEGIN {
    printf "store-content / no-store-content = %.2f wall, %.2f cpu (goal <= 1.25)\n", a / b, c / d }'
awk -v a="$(median "${on[@]}")" -v b="$(median "${off[@]}")" -v s="$STOLEN" -v t="$(getconf CLK_TCK)" 'BEGIN {
    printf "medians: %.2f s against %.2f s = %.2f wall; CPU time stolen by the host meanwhile: %.1f s\n", a, b, a / b, s / t }'
