#!/usr/bin/env bash
# Validation speed and memory (a benchmark, not a test).
#
#   bash bench/validate.sh [ROWS]        (default 1,000,000 rows)
#
# Generates a 10-column CSV (1 bad value in 2,000 rows) and a Table Schema of 7 constrained
# fields (unique integer id, integer range, email, date, boolean, enum, number), then measures:
#   1. frictionless-py 5 validating the file with that schema (installed into
#      bench/.venv-frictionless);
#   2. sqlite3 .import of the file alone, then `rssd validate` on the imported table;
#   3. `rssd ingest --schema` (load + validation in one run), when this build has `ingest`;
#   4. peak RSS of rssd on a file where every row fails.
# Prints the load average before and after, since other work may share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
out=bench/out/validate
mkdir -p "$out"
venv=bench/.venv-frictionless
if [ ! -x "$venv/bin/frictionless" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'frictionless>=5,<6'
fi
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
[ -x /usr/bin/time ] || need+=(time)
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
rssd=$PWD/target/release/rssd

python3 - "$out" "$rows" <<'PY'
import json, random, sys
out, rows = sys.argv[1], int(sys.argv[2])
random.seed(7)
statuses = ["active", "inactive", "pending"]
schema = {"fields": [
    {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
    {"name": "age", "type": "integer", "constraints": {"minimum": 0, "maximum": 120}},
    {"name": "email", "type": "string", "format": "email"},
    {"name": "visit_date", "type": "date"},
    {"name": "consent", "type": "boolean"},
    {"name": "status", "type": "string", "constraints": {"enum": statuses}},
    {"name": "amount", "type": "number", "constraints": {"minimum": 0}},
    {"name": "name", "type": "string"},
    {"name": "city", "type": "string"},
    {"name": "note", "type": "string"}]}
json.dump(schema, open(f"{out}/schema.json", "w"), indent=1)
def write(path, failing):
    with open(path, "w") as f:
        f.write(",".join(x["name"] for x in schema["fields"]) + "\n")
        for i in range(1, rows + 1):
            bad = failing or i % 2000 == 0
            age = random.randint(0, 120)
            email = f"user{i}@example.org" if not bad else f"user{i} at example"
            date = f"20{random.randint(10, 24)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
            consent = random.choice(["true", "false"])
            status = random.choice(statuses)
            amount = f"{random.random() * 1000:.2f}"
            f.write(f"{i},{age},{email},{date},{consent},{status},{amount},Name {i},City {i % 97},note {i % 13}\n")
write(f"{out}/data.csv", False)
write(f"{out}/failing.csv", True)
PY

now() { date +%s.%N; }
# `cpu FILE`: user+sys seconds that /usr/bin/time wrote to FILE ("%e %U %S %M").
cpu() { read -r _ user sys _ < <(tail -1 "$1"); python3 -c "print(f'{$user + $sys:.2f}')"; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
echo "rows: $rows; machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

cd "$out"
sync; t0=$(now)
fl_errors=$("../../../$venv/bin/python" -c "
from frictionless import validate
report = validate('data.csv', schema='schema.json', limit_errors=10**9)
print(report.stats['errors'])")
t1=$(now); fl=$(elapsed "$t0" "$t1")
echo "frictionless-py validate:            ${fl} s  (${fl_errors} errors)"

rm -f import.db rssd.db ingest.db failing.db
sync; t0=$(now); /usr/bin/time -f "%e %U %S %M" -o import.time sqlite3 import.db ".import --csv data.csv data"; t1=$(now); imp=$(elapsed "$t0" "$t1")
echo "sqlite3 .import alone:               ${imp} s  (CPU $(cpu import.time) s)"

cp import.db rssd.db
sync; t0=$(now)
/usr/bin/time -f "%e %U %S %M" -o validate.time "$rssd" -d rssd.db validate --schema schema.json --table data --fail-on never >/dev/null
t1=$(now); val=$(elapsed "$t0" "$t1")
val_errors=$(sqlite3 rssd.db "SELECT count(*) FROM orchestration_session_issue")
echo "rssd validate (imported table):      ${val} s  (CPU $(cpu validate.time) s; ${val_errors} errors)  -> $(python3 -c "print(f'{$fl / $val:.1f}')") x faster than frictionless"

if "$rssd" ingest --help >/dev/null 2>&1; then
    sync; t0=$(now)
    /usr/bin/time -f "%e %U %S %M" -o ingest.time "$rssd" -d ingest.db ingest data.csv --schema schema.json --fail-on never --no-progress >/dev/null
    t1=$(now); ing=$(elapsed "$t0" "$t1")
    ing_errors=$(sqlite3 ingest.db "SELECT count(*) FROM orchestration_session_issue")
    echo "rssd ingest --schema (load+validate): ${ing} s  (CPU $(cpu ingest.time) s; ${ing_errors} issues) -> $(python3 -c "print(f'{$ing / $imp:.2f}')") x sqlite3 .import"
    /usr/bin/time -f "%e %U %S %M" -o failing.rss "$rssd" -d failing.db ingest failing.csv --schema schema.json --fail-on never --no-progress >/dev/null
else
    echo "rssd ingest: not in this build; the failing-rows run below validates an imported table"
    sqlite3 failing.db ".import --csv failing.csv failing"
    /usr/bin/time -f "%e %U %S %M" -o failing.rss "$rssd" -d failing.db validate --schema schema.json --table failing --fail-on never >/dev/null
fi
read -r failing_wall _ _ failing_kb < <(tail -1 failing.rss)
echo "every row failing: $(sqlite3 failing.db "SELECT count(*) FROM orchestration_session_issue") issues in ${failing_wall} s (CPU $(cpu failing.rss) s), peak RSS $((failing_kb / 1024)) MB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
