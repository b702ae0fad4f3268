#!/usr/bin/env bash
# Benchmark of `rssd watch`: FILES files of ROWS rows dropped into an inbox at once.
#  1. Latency: from the last file written to the last session committed (the session's log
#     line), with the default --settle 5 --batch-window 10 and with --settle 1 --batch-window 1,
#     against the peer: `rssd ingest` of the same folder run by hand (what a timer would run),
#     so the ratio shows what watching adds on top of the load itself.
#  2. Idle CPU over IDLE seconds with the files left in the inbox (no --archive): inotify, and
#     --poll 2 (the fallback's interval) and --poll 0.5, as a share of one core.
# Generates its own data (bench/gen.py), builds rssd in release.
#
# Usage: bash bench/watch.sh        (FILES=1000 ROWS=1000 IDLE=30)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FILES=${FILES:-1000}
ROWS=${ROWS:-1000}
IDLE=${IDLE:-30}
WORK=${BENCH_DIR:-$ROOT/bench/out}/watch
cargo build --release --quiet
RSSD=$ROOT/target/release/rssd
mkdir -p "$WORK"
cd "$WORK"
SRC=src-$FILES-$ROWS
[ -d "$SRC" ] && [ "$(ls "$SRC" | wc -l)" = "$FILES" ] || { rm -rf "$SRC"; python3 "$ROOT/bench/gen.py" small "$SRC" "$FILES" "$ROWS"; }
echo "data: $FILES files of $ROWS rows ($(du -sh "$SRC" | cut -f1))"
WATCHER=

stop_watcher() {
    if [ -n "$WATCHER" ]; then
        kill -TERM "$WATCHER" 2>/dev/null || true
        wait "$WATCHER" 2>/dev/null || true
        WATCHER=
    fi
}
trap stop_watcher EXIT

# committed_files LOG: how many files the sessions logged in LOG took.
committed_files() {
    python3 - "$1" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("event") == "session":
        n += event["files"]
print(n)
EOF
}

# last_session_time LOG: the time (epoch seconds) of the last session line in LOG.
last_session_time() {
    python3 - "$1" <<'EOF'
import datetime, json, sys
last = None
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("event") == "session":
        last = event["time"]
t = datetime.datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print(f"{t.timestamp():.3f}")
EOF
}

# start_watcher LOG ARGS...: rssd watch in the background on ./inbox, waiting until it watches.
start_watcher() {
    local log=$1
    shift
    "$RSSD" -d watch.sqlite.db watch inbox --log-format json "$@" 2>"$log" &
    WATCHER=$!
    until grep -q '"event":"watching"' -- "$log" 2>/dev/null; do
        kill -0 "$WATCHER" 2>/dev/null || { cat -- "$log" >&2; exit 1; }
        sleep 0.05
    done
}

# latency NAME LABEL ARGS...: drops the files, prints seconds from the last written to the last
# committed.
latency() {
    local name=$1 label=$2
    shift 2
    rm -rf inbox archive watch.sqlite.db*
    mkdir inbox
    sync
    start_watcher "$name.log" --archive archive "$@"
    cp "$SRC"/* inbox/
    local written
    written=$(date +%s.%N)
    until [ "$(committed_files "$name.log")" -ge "$FILES" ]; do sleep 0.1; done
    local committed
    committed=$(last_session_time "$name.log")
    stop_watcher
    local sessions
    sessions=$(grep -c '"event":"session"' "$name.log")
    python3 -c "print(f'{$committed - $written:.2f}')" >"$name.latency"
    printf '%-38s %8.2f s  (%s sessions)\n' "$label" "$(cat "$name.latency")" "$sessions"
    python3 -c "print(f'  ratio to rssd ingest FOLDER: {$(cat "$name.latency") / $(cat plain.latency):.2f}x')"
}

# idle_cpu NAME LABEL ARGS...: CPU share of one core used by an idle watcher over IDLE seconds.
idle_cpu() {
    local name=$1 label=$2
    shift 2
    rm -rf inbox watch.sqlite.db*
    mkdir inbox
    cp "$SRC"/* inbox/
    start_watcher "$name.log" --settle 0.5 "$@"
    until [ "$(committed_files "$name.log")" -ge "$FILES" ]; do sleep 0.1; done
    sleep 1
    local ticks before after
    ticks=$(getconf CLK_TCK)
    before=$(awk '{print $14 + $15}' "/proc/$WATCHER/stat")
    sleep "$IDLE"
    after=$(awk '{print $14 + $15}' "/proc/$WATCHER/stat")
    stop_watcher
    python3 -c "print(f'{100 * ($after - $before) / $ticks / $IDLE:.3f}')" >"$name.cpu"
    printf '%-38s %8s %% of a core  (%s CPU ticks in %s s)\n' "$label" "$(cat "$name.cpu")" "$((after - before))" "$IDLE"
}

echo "== latency: last file written -> last session committed"
rm -rf plain.sqlite.db*
sync
start=$(date +%s.%N)
"$RSSD" -d plain.sqlite.db ingest "$SRC" --no-progress >/dev/null
end=$(date +%s.%N)
python3 -c "print(f'{$end - $start:.2f}')" >plain.latency
printf '%-38s %8.2f s  (peer: the load alone, run by hand)\n' "rssd ingest FOLDER" "$(cat plain.latency)"
latency default "watch (settle 5, window 10)"
latency fast "watch --settle 1 --batch-window 1" --settle 1 --batch-window 1
latency poll "watch --poll 1 --settle 1 --batch-window 1" --settle 1 --batch-window 1 --poll 1

echo "== idle CPU with $FILES files left in the inbox, over $IDLE s"
idle_cpu inotify "inotify"
idle_cpu poll-2 "--poll 2" --poll 2
idle_cpu poll-0.5 "--poll 0.5" --poll 0.5
