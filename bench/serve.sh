#!/usr/bin/env bash
# Benchmark of `rssd serve` beside Datasette on the same RSSD, in one run: an RSSD with a
# ROWS-row table and ROWS/ISSUE_EVERY issues made by rssd itself (ingest with a Table Schema
# that rejects one amount in ISSUE_EVERY), then p50/p95 latency of each page under CLIENTS
# concurrent keep-alive clients (bench/serve_client.py, Python threads and http.client),
# and each server's peak RSS (VmHWM).
#
# Pages: a table's first page, its page 10,000 (keyset: after= / Datasette's _next=), a
# filtered page (category = c3), a facet (category), and the same first page and page
# 10,000 of the session's issues.
#
# Usage: bash bench/serve.sh                 (ROWS=10000000 ISSUE_EVERY=10 CLIENTS=8 REQUESTS=25)
#        ROWS=1000000 bash bench/serve.sh    scaled down (page 10,000 needs ROWS >= 1,000,100)
#        ONLY=rssd bash bench/serve.sh       one server only (rssd or datasette)
# Installs Datasette into bench/.venv-datasette (PyPI) and sqlite3 (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${ROWS:-10000000}
ISSUE_EVERY=${ISSUE_EVERY:-10}
CLIENTS=${CLIENTS:-8}
REQUESTS=${REQUESTS:-25}
WORK=${BENCH_DIR:-$ROOT/bench/out/serve}
VENV=$ROOT/bench/.venv-datasette
ONLY=${ONLY:-}
RSSD_PORT=${RSSD_PORT:-18801}
DATASETTE_PORT=${DATASETTE_PORT:-18802}

command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
[ -x "$VENV/bin/datasette" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q datasette; }
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd

mkdir -p "$WORK"
cd "$WORK"
DB=serve-bench.db
if [ ! -f "$DB" ] || [ "$(cat rows 2>/dev/null)" != "$ROWS/$ISSUE_EVERY" ]; then
    rm -f "$DB" "$DB-wal" "$DB-shm" big.csv
    echo "generating $ROWS rows..."
    sqlite3 -csv -header :memory: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
        SELECT i AS id, 'c' || (i % 10) AS category,
               CASE WHEN i % $ISSUE_EVERY = 7 % $ISSUE_EVERY THEN 'bad' || i ELSE i % 1000 END AS amount,
               'note ' || i AS note FROM n" > big.csv
    cat > big.schema.json <<'JSON'
{"fields": [{"name": "id", "type": "integer"}, {"name": "category", "type": "string"},
            {"name": "amount", "type": "integer"}, {"name": "note", "type": "string"}]}
JSON
    echo "ingesting with rssd (validating against the schema)..."
    /usr/bin/time -f "ingest: %e s, peak RSS %M KB" "$RSSD" -d "$DB" ingest big.csv --schema big.schema.json --no-progress >/dev/null || true
    rm -f big.csv
    echo "$ROWS/$ISSUE_EVERY" > rows
fi
SESSION=$(sqlite3 "$DB" "SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1")
ROW_COUNT=$(sqlite3 "$DB" "SELECT max(rowid) FROM big")
ISSUES=$(sqlite3 "$DB" "SELECT count(*) FROM orchestration_session_issue")
echo "RSSD: $ROW_COUNT rows in big, $ISSUES issues, $(du -h "$DB" | cut -f1); $CLIENTS clients x $REQUESTS requests per page"

# Page 10,000 starts after row (or issue) 999,900 in both servers' keyset terms.
AFTER=999900

peak_rss() { awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$1/status"; }
wait_http() {
    for _ in $(seq 1 300); do
        python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "server at $1 did not answer" >&2; return 1
}

RSSD_PID=
DATASETTE_PID=
trap 'kill $RSSD_PID $DATASETTE_PID 2>/dev/null || true' EXIT
echo
echo "server     page             (first request alone, then $CLIENTS concurrent clients)"
if [ "$ONLY" != datasette ]; then
    "$RSSD" -d "$DB" serve --bind "127.0.0.1:$RSSD_PORT" >/dev/null &
    RSSD_PID=$!
    wait_http "http://127.0.0.1:$RSSD_PORT/static/style.css"
    python3 "$ROOT/bench/serve_client.py" rssd "http://127.0.0.1:$RSSD_PORT" "$CLIENTS" "$REQUESTS" \
        "table-first=/tables/big" \
        "table-page-10000=/tables/big?after=$AFTER" \
        "table-filtered=/tables/big?category=c3" \
        "table-facet=/tables/big?facet=category" \
        "issues-first=/sessions/$SESSION/issues" \
        "issues-p10000=/sessions/$SESSION/issues?after=$AFTER"
    echo "rssd       peak RSS $(peak_rss $RSSD_PID)"
    kill $RSSD_PID
fi
if [ "$ONLY" != rssd ]; then
    # Each server runs alone, so neither takes CPU from the other's measurements.
    "$VENV/bin/datasette" serve "$DB" --host 127.0.0.1 --port "$DATASETTE_PORT" >/dev/null 2>&1 &
    DATASETTE_PID=$!
    wait_http "http://127.0.0.1:$DATASETTE_PORT/-/versions.json"
    D=serve-bench
    python3 "$ROOT/bench/serve_client.py" datasette "http://127.0.0.1:$DATASETTE_PORT" "$CLIENTS" "$REQUESTS" \
        "table-first=/$D/big" \
        "table-page-10000=/$D/big?_next=$AFTER" \
        "table-filtered=/$D/big?category=c3" \
        "table-facet=/$D/big?_facet=category" \
        "issues-first=/$D/orchestration_session_issue?session_id=$SESSION" \
        "issues-p10000=/$D/orchestration_session_issue?session_id=$SESSION&_next=$AFTER"
    echo "datasette  peak RSS $(peak_rss $DATASETTE_PID)"
    # Datasette gives up on a facet after facet_time_limit_ms (200 ms): say whether it did.
    python3 - "http://127.0.0.1:$DATASETTE_PORT/$D/big.json?_facet=category&_size=0" <<'PY'
import json, sys, urllib.request
page = json.load(urllib.request.urlopen(sys.argv[1], timeout=120))
print("datasette  facet timed out:", page.get("facets_timed_out"), "| rows counted:", page.get("filtered_table_rows_count"))
PY
fi
