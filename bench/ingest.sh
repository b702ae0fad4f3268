#!/usr/bin/env bash
# Benchmark of `rssd ingest` against sqlite3 `.import`, DuckDB 1.4.4 writing the same CSV into a
# SQLite file (its sqlite extension, PyPI duckdb-ext-sqlite, loaded offline) and the DuckDB CLI
# into its own file, in one run. Generates its own data, installs its own peers (Debian sqlite3
# and time; PyPI duckdb-cli and XlsxWriter into bench/.venv, duckdb==1.4.4 and
# duckdb-ext-sqlite into bench/.venv-duckdb), builds rssd in release, prints wall times,
# ratios, peak RSS and rows/s.
#
# Usage: bash bench/ingest.sh            (ROWS=1000000 BIG_COPIES=10 SMALL_FILES=10000 XLSX_ROWS=100000)
#        SQLITE_UTILS=1 bash bench/ingest.sh   also times sqlite-utils (slow: about a minute)
#        QUICK=1 bash bench/ingest.sh          only the 1,000,000-row comparison (for iterating)
#        RUNS=5 bash bench/ingest.sh           rounds of the 1,000,000-row comparison (default 3; fastest counts)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${ROWS:-1000000}
BIG_COPIES=${BIG_COPIES:-10}
SMALL_FILES=${SMALL_FILES:-10000}
XLSX_ROWS=${XLSX_ROWS:-100000}
WORK=${BENCH_DIR:-$ROOT/bench/out}
VENV=$ROOT/bench/.venv
DUCK_VENV=$ROOT/bench/.venv-duckdb

need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
[ -x /usr/bin/time ] || need+=(time)
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x "$VENV/bin/duckdb" ] || ! "$VENV/bin/python" -c "import xlsxwriter" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q duckdb-cli XlsxWriter
fi
if ! "$DUCK_VENV/bin/python" -c "import duckdb, duckdb_ext" 2>/dev/null; then
    python3 -m venv "$DUCK_VENV"
    "$DUCK_VENV/bin/pip" install -q duckdb==1.4.4 duckdb-ext-sqlite
fi
if [ "${SQLITE_UTILS:-0}" = 1 ] && [ ! -x "$VENV/bin/sqlite-utils" ]; then
    "$VENV/bin/pip" install -q sqlite-utils
fi
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd

mkdir -p "$WORK"
cd "$WORK"
QUICK=${QUICK:-0}
[ -f data.csv ] && [ "$(($(wc -l <data.csv) - 1))" = "$ROWS" ] || "$VENV/bin/python" "$ROOT/bench/gen.py" csv data.csv "$ROWS"
# big.csv is rebuilt when data.csv or BIG_COPIES changed.
if [ "$QUICK" != 1 ] && { [ ! -f big.csv ] || [ "$(($(wc -l <big.csv) - 1))" != "$((ROWS * BIG_COPIES))" ]; }; then
    cp data.csv big.csv
    for _ in $(seq 2 "$BIG_COPIES"); do tail -n +2 data.csv >>big.csv; done
fi
if [ "$QUICK" != 1 ]; then
    [ -d small ] && [ "$(ls small | wc -l)" = "$SMALL_FILES" ] || { rm -rf small; "$VENV/bin/python" "$ROOT/bench/gen.py" small small "$SMALL_FILES" 10; }
    [ -f book.xlsx ] || "$VENV/bin/python" "$ROOT/bench/gen.py" xlsx book.xlsx "$XLSX_ROWS"
fi

# measure NAME CMD...: runs CMD under /usr/bin/time -v; sets WALL (s), CPU (s) and RSS (MB).
measure() {
    local name=$1
    shift
    local log
    log=$(mktemp)
    # Each tool starts with the page cache's dirty pages (an earlier tool's output) written
    # back, so that no run pays for the one before it.
    sync
    if ! /usr/bin/time -v -o "$log" "$@" >"$WORK/$name.out" 2>&1; then
        echo "!! $name failed (exit status above 1 is a failure; see $WORK/$name.out)" >&2
        tail -3 "$WORK/$name.out" >&2 || true
    fi
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
    RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    CPU=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$log")
    rm -f "$log"
    # CPU (user + system, all threads) is less disturbed by other load than wall time.
    printf '%-48s %8.2f s wall %7.2f s cpu %6s MB\n' "$name" "$WALL" "$CPU" "$RSS"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.0f", r / s }'; }

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$QUICK" = 1 ]; then
    echo "data: data.csv $ROWS rows ($(du -m data.csv | cut -f1) MB) (QUICK=1: the other files are skipped)"
else
    echo "data: data.csv $ROWS rows ($(du -m data.csv | cut -f1) MB), big.csv $((ROWS * BIG_COPIES)) rows ($(du -m big.csv | cut -f1) MB), $SMALL_FILES small files x 10 rows, book.xlsx $XLSX_ROWS rows"
fi
echo

# RUNS rounds (default 3), the tools interleaved in each so that a busy moment of the machine
# hits all of them; each tool's fastest round counts.
RUNS=${RUNS:-3}
declare -A W C
keep() {
    if [ -z "${W[$1]:-}" ] || awk -v a="$WALL" -v b="${W[$1]}" 'BEGIN { exit !(a < b) }'; then
        W[$1]=$WALL
        C[$1]=$CPU
    fi
}
for round in $(seq 1 "$RUNS"); do
    echo "round $round of $RUNS"
    rm -f s1.db d1.db d2.db d1.duckdb r1.db* r1x.db*
    measure "sqlite3 .import (all TEXT)" sqlite3 s1.db ".mode csv" ".import data.csv t"
    keep sqlite
    measure "duckdb 1.4.4 read_csv -> sqlite file" "$DUCK_VENV/bin/python" "$ROOT/bench/duckdb_sqlite.py" data.csv d2.db
    keep dsql
    measure "duckdb CLI read_csv -> .duckdb file" "$VENV/bin/duckdb" d1.duckdb -c "CREATE TABLE t AS SELECT * FROM read_csv('data.csv');"
    keep duck
    measure "rssd ingest (typed + audit; WAL, the default)" "$RSSD" -d r1.db ingest --no-progress data.csv
    keep rssd
    # Opt-in: the rollback journal while no other connection has the file open (pages written once).
    measure "rssd ingest --exclusive-load (rollback journal)" "$RSSD" -d r1x.db ingest --no-progress --exclusive-load data.csv
    keep rssdx
done
T_SQLITE=${W[sqlite]} C_SQLITE=${C[sqlite]} T_DSQL=${W[dsql]} C_DSQL=${C[dsql]} T_DUCK=${W[duck]}
T_RSSD=${W[rssd]} C_RSSD=${C[rssd]} T_RSSDX=${W[rssdx]} C_RSSDX=${C[rssdx]}
echo
echo "fastest of $RUNS rounds (wall s / cpu s): sqlite3 $T_SQLITE / $C_SQLITE, duckdb->sqlite $T_DSQL / $C_DSQL, duckdb own file $T_DUCK, rssd WAL $T_RSSD / $C_RSSD, rssd exclusive $T_RSSDX / $C_RSSDX"
echo "   rssd $(rate "$ROWS" "$T_RSSD") rows/s; column types: $(sqlite3 r1.db "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('data')")"
if [ "${SQLITE_UTILS:-0}" = 1 ]; then
    rm -f u1.db
    measure "sqlite-utils insert --csv" "$VENV/bin/sqlite-utils" insert u1.db t data.csv --csv --detect-types
    echo "   rssd / sqlite-utils = $(ratio "$T_RSSD" "$WALL")"
fi
echo
echo "ratios of wall time (lower is faster; goal: WAL <= 0.75 and exclusive <= 0.60 of duckdb->sqlite):"
printf '   %-22s %-18s %-18s %s\n' "" "/ duckdb->sqlite" "/ sqlite3 .import" "/ duckdb own file"
printf '   %-22s %-18s %-18s %s\n' "rssd WAL (default)" "$(ratio "$T_RSSD" "$T_DSQL")" "$(ratio "$T_RSSD" "$T_SQLITE")" "$(ratio "$T_RSSD" "$T_DUCK")"
printf '   %-22s %-18s %-18s %s\n' "rssd --exclusive-load" "$(ratio "$T_RSSDX" "$T_DSQL")" "$(ratio "$T_RSSDX" "$T_SQLITE")" "$(ratio "$T_RSSDX" "$T_DUCK")"
echo "   cpu: WAL / duckdb->sqlite = $(ratio "$C_RSSD" "$C_DSQL"), exclusive = $(ratio "$C_RSSDX" "$C_DSQL"); WAL / sqlite3 = $(ratio "$C_RSSD" "$C_SQLITE")"
echo "   rows: rssd $(sqlite3 r1.db 'SELECT count(*) FROM data'), duckdb->sqlite $(sqlite3 d2.db 'SELECT count(*) FROM t'), sqlite3 $(sqlite3 s1.db 'SELECT count(*) FROM t')"
rm -f r1x.db*
echo

if [ "$QUICK" = 1 ]; then
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi

rm -f r2.db*
measure "rssd ingest big.csv ($(du -m big.csv | cut -f1) MB)" "$RSSD" -d r2.db ingest --no-progress big.csv
echo "   peak RSS ${RSS} MB (target < 100 MB); $(rate "$((ROWS * BIG_COPIES))" "$WALL") rows/s"
rm -f r2.db*
echo

rm -f s3.db r3.db*
: >import-small.sql
for f in small/*.csv; do
    b=$(basename "$f" .csv)
    printf '.import %s %s\n' "$f" "$b" >>import-small.sql
done
measure "sqlite3 .import $SMALL_FILES files" sqlite3 -csv s3.db ".read import-small.sql"
T_SQLITE_SMALL=$WALL
measure "rssd ingest $SMALL_FILES files" "$RSSD" -d r3.db ingest --no-progress small
echo "   sqlite3 / rssd = $(ratio "$T_SQLITE_SMALL" "$WALL") (target >= 2.0)"
echo

rm -f r4.db*
measure "rssd ingest book.xlsx" "$RSSD" -d r4.db ingest --no-progress book.xlsx
echo "   $(rate "$XLSX_ROWS" "$WALL") rows/s from xlsx"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
