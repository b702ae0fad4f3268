#!/usr/bin/env bash
# Workbooks and JSON arrays, in one run: `rssd ingest` of a 1,000,000-row xlsx against polars
# `read_excel` (fastexcel, calamine) + `write_database` (ADBC) into SQLite, and of a
# 1,000,000-item JSON array against DuckDB 1.4.4 `read_json` written into SQLite through its
# sqlite extension (PyPI duckdb-ext-sqlite, loaded offline); wall time, CPU, peak RSS, ratios.
# Then rssd's peak RSS on a 1 GB JSON array and on a 100,000-row .ods (read whole).
# Generates its own data (bench/gen.py, cached in bench/out/formats), installs its peers into
# bench/.venv-formats, builds rssd in release.
#
# Usage: bash bench/formats.sh     (XLSX_ROWS=1000000 JSON_ITEMS=1000000 BIG_JSON_ITEMS=7800000
#                                   ODS_ROWS=100000; BIG_JSON_ITEMS=0 skips the 1 GB file)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
XLSX_ROWS=${XLSX_ROWS:-1000000}
JSON_ITEMS=${JSON_ITEMS:-1000000}
BIG_JSON_ITEMS=${BIG_JSON_ITEMS:-7800000}
ODS_ROWS=${ODS_ROWS:-100000}
WORK=${BENCH_DIR:-$ROOT/bench/out/formats}
VENV=$ROOT/bench/.venv-formats

[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
if ! "$VENV/bin/python" -c "import polars, fastexcel, adbc_driver_sqlite, pyarrow, duckdb, duckdb_ext, xlsxwriter" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q polars fastexcel adbc-driver-sqlite pyarrow duckdb==1.4.4 duckdb-ext-sqlite XlsxWriter
fi
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd
PY=$VENV/bin/python

mkdir -p "$WORK"
cd "$WORK"
# Each file is rebuilt only when its size parameter changed (the name carries it).
gen() {
    if [ ! -f "$2" ]; then
        "$PY" "$ROOT/bench/gen.py" "$1" "$2.part" "$3"
        mv "$2.part" "$2"
    fi
}
BOOK=book-$XLSX_ROWS.xlsx
ITEMS=items-$JSON_ITEMS.json
BIG=items-$BIG_JSON_ITEMS.json
ODS=sheet-$ODS_ROWS.ods
gen xlsx "$BOOK" "$XLSX_ROWS"
gen json "$ITEMS" "$JSON_ITEMS"
[ "$BIG_JSON_ITEMS" = 0 ] || gen json "$BIG" "$BIG_JSON_ITEMS"
gen ods "$ODS" "$ODS_ROWS"

# measure NAME CMD...: runs CMD under /usr/bin/time -v; sets WALL (s), CPU (s) and RSS (MB).
measure() {
    local name=$1
    shift
    local log
    log=$(mktemp)
    sync
    if ! /usr/bin/time -v -o "$log" "$@" >"$WORK/$name.out" 2>&1; then
        echo "!! $name failed (see $WORK/$name.out)" >&2
        tail -3 "$WORK/$name.out" >&2 || true
    fi
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
    RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    CPU=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$log")
    rm -f "$log"
    printf '%-40s %8.2f s wall %7.2f s cpu %6s MB\n' "$name" "$WALL" "$CPU" "$RSS"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $BOOK ($(du -mL "$BOOK" | cut -f1) MB), $ITEMS ($(du -mL "$ITEMS" | cut -f1) MB)"
echo

rm -f x-rssd.db* x-polars.db
measure "rssd ingest xlsx" "$RSSD" -d x-rssd.db ingest --no-progress "$BOOK"
T_RX=$WALL C_RX=$CPU M_RX=$RSS
measure "polars+fastexcel -> sqlite (ADBC)" "$PY" "$ROOT/bench/formats.py" polars-xlsx "$BOOK" x-polars.db
T_PX=$WALL C_PX=$CPU M_PX=$RSS
rm -f j-rssd.db* j-duckdb.db
measure "rssd ingest json array" "$RSSD" -d j-rssd.db ingest --no-progress "$ITEMS"
T_RJ=$WALL C_RJ=$CPU M_RJ=$RSS
measure "duckdb read_json -> sqlite" "$PY" "$ROOT/bench/formats.py" duckdb-json "$ITEMS" j-duckdb.db
T_DJ=$WALL C_DJ=$CPU M_DJ=$RSS
echo
echo "xlsx: rssd/polars wall $(ratio "$T_RX" "$T_PX")x (goal <= 0.7), cpu $(ratio "$C_RX" "$C_PX")x; peak RSS rssd $M_RX MB (goal < 100), polars $M_PX MB"
echo "json: rssd/duckdb wall $(ratio "$T_RJ" "$T_DJ")x (goal <= 0.8), cpu $(ratio "$C_RJ" "$C_DJ")x; peak RSS rssd $M_RJ MB, duckdb $M_DJ MB"
rows() { "$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@" 2>/dev/null || echo "?"; }
echo "rows loaded: xlsx rssd $(rows x-rssd.db "SELECT count(*) FROM \"book_${XLSX_ROWS}_data\""), polars $(rows x-polars.db 'SELECT count(*) FROM data'); json rssd $(rows j-rssd.db "SELECT count(*) FROM \"items_${JSON_ITEMS}\""), duckdb $(rows j-duckdb.db 'SELECT count(*) FROM items')"
echo

if [ "$BIG_JSON_ITEMS" != 0 ]; then
    rm -f big-rssd.db*
    measure "rssd ingest json array $(du -mL "$BIG" | cut -f1) MB" "$RSSD" -d big-rssd.db ingest --no-progress "$BIG"
    echo "   peak RSS $RSS MB (goal < 100)"
fi
rm -f o-rssd.db*
measure "rssd ingest ods $ODS_ROWS rows (read whole)" "$RSSD" -d o-rssd.db ingest --no-progress "$ODS"
