#!/usr/bin/env bash
# Benchmark of `rssd push` and `rssd merge`, each beside its floor or peer, in one run.
#
#  1. push: a 1,000,000-row table (bench/gen.py's 10 columns) pushed by `rssd push` into a
#     throwaway PostgreSQL cluster, against `psql -c "\copy t FROM data.csv CSV HEADER"` into
#     the same server (the COPY floor). Push's time includes the session's orchestration rows,
#     its provenance columns and its transaction. Then a push with nothing new.
#  2. merge: 100 RSSDs (each one ingest session of 10 files x 1,000 rows) merged by `rssd merge`
#     against a surveilr-style sqlite3 script (ATTACH 10 at a time, INSERT OR IGNORE every
#     table, DETACH), each run twice: time of each run and rows in the target after each.
#
# Usage: bash bench/fleet.sh        (ROWS=1000000 CANDIDATES=100 FILES=10 FILE_ROWS=1000)
# Needs PostgreSQL's server binaries (scripts/setup.sh installs Debian's postgresql) and sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${ROWS:-1000000}
CANDIDATES=${CANDIDATES:-100}
FILES=${FILES:-10}
FILE_ROWS=${FILE_ROWS:-1000}
WORK=${BENCH_DIR:-$ROOT/bench/out}/fleet
bash scripts/setup.sh
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

# ---- a throwaway cluster, stopped on exit
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p pg
[ "$(id -u)" = 0 ] && chown postgres pg
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -U rssd -A trust -E UTF8 --locale=C -N >/dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
    -o "-p $PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_wal_size=4GB" start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null' EXIT
URL=postgres://rssd@127.0.0.1:$PORT/postgres
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U rssd -d postgres -v ON_ERROR_STOP=1)

# ---- 1. push vs COPY
python3 "$ROOT/bench/gen.py" csv data.csv "$ROWS"
"$RSSD" -d push.db --device-name bench ingest data.csv --no-progress >/dev/null
echo "== push of a $ROWS-row table (data.csv $(du -h data.csv | cut -f1)) into PostgreSQL"
best_copy=""
best_push=""
for run in 1 2; do
    "${PSQL[@]}" -c "CREATE TABLE t$run (id bigint, name text, age bigint, score double precision, city text,
        code text, visit_date text, flag bigint, amount double precision, note text)"
    start=$(now)
    "${PSQL[@]}" -c "\\copy t$run FROM data.csv CSV HEADER"
    t_copy=$(elapsed "$start" "$(now)")
    start=$(now)
    "$RSSD" -d push.db push "$URL" --schema "push$run" >/dev/null 2>&1
    t_push=$(elapsed "$start" "$(now)")
    echo "run $run: psql \\copy ${t_copy}s   rssd push ${t_push}s"
    if [ -z "$best_copy" ] || python3 -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))" "$t_copy" "$best_copy"; then best_copy=$t_copy; fi
    if [ -z "$best_push" ] || python3 -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))" "$t_push" "$best_push"; then best_push=$t_push; fi
done
pushed=$("${PSQL[@]}" -At -c "SELECT count(*) FROM push1.data")
orch=$("${PSQL[@]}" -At -c "SELECT rows FROM push1.rssd_push_watermark")
start=$(now)
"$RSSD" -d push.db push "$URL" --schema push1 2>&1 | tail -1
t_again=$(elapsed "$start" "$(now)")
echo "rows in push1.data: $pushed (session total incl. orchestration rows: $orch)"
echo "best: psql \\copy ${best_copy}s ($(python3 -c "print(int($ROWS / $best_copy))") rows/s)   rssd push ${best_push}s ($(python3 -c "print(int($ROWS / $best_push))") rows/s)"
echo "push throughput / COPY throughput: $(ratio "$best_copy" "$best_push")   (goal >= 0.70)"
echo "push with nothing new: ${t_again}s   (goal < 1 s)"

# ---- 2. merge vs a surveilr-style ATTACH / INSERT OR IGNORE script
echo
echo "== merge of $CANDIDATES RSSDs ($FILES files x $FILE_ROWS rows each)"
python3 "$ROOT/bench/gen.py" small parts "$FILES" "$FILE_ROWS"
mkdir -p cand
for i in $(seq -w 1 "$CANDIDATES"); do
    "$RSSD" -d "cand/site-$i.db" --device-name "site-$i" ingest parts --no-progress >/dev/null
done
# The peer's target starts with the candidates' schema, as surveilr's own RSSD would.
first=$(ls cand/*.db | head -1)
sqlite3 "$first" .schema | grep -v '^CREATE TABLE sqlite_' | sqlite3 surveilr.db
tables=$(sqlite3 "$first" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
{
    n=0
    for db in cand/*.db; do
        echo "ATTACH DATABASE '$db' AS c$n;"
        n=$((n + 1))
        if [ "$n" = 10 ]; then
            echo "BEGIN;"
            for k in $(seq 0 9); do
                for t in $tables; do echo "INSERT OR IGNORE INTO main.\"$t\" SELECT * FROM c$k.\"$t\";"; done
            done
            echo "COMMIT;"
            for k in $(seq 0 9); do echo "DETACH DATABASE c$k;"; done
            n=0
        fi
    done
} > surveilr-merge.sql

total_rows() {
    local db=$1 sum=0
    for t in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); do
        sum=$((sum + $(sqlite3 "$db" "SELECT count(*) FROM \"$t\"")))
    done
    echo "$sum"
}
for run in 1 2; do
    start=$(now)
    "$RSSD" -d hub.db --device-name hub merge --candidates 'cand/*.db' >/dev/null
    t_rssd=$(elapsed "$start" "$(now)")
    start=$(now)
    sqlite3 surveilr.db < surveilr-merge.sql
    t_peer=$(elapsed "$start" "$(now)")
    loaded_rssd=$(sqlite3 hub.db "SELECT count(*) FROM part_00000")
    loaded_peer=$(sqlite3 surveilr.db "SELECT count(*) FROM part_00000")
    echo "run $run: rssd merge ${t_rssd}s, target rows $(total_rows hub.db) (part_00000: $loaded_rssd)   |   sqlite3 script ${t_peer}s, target rows $(total_rows surveilr.db) (part_00000: $loaded_peer)"
done
echo "(rssd's target also holds its own merge sessions: one entry, states and log rows per candidate per run)"
