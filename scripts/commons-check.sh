#!/bin/bash
# Runs every .sql of a checkout of opsfolio/resource-surveillance-commons with `rssd shell` on
# a fresh RSSD made by rssd (init, then an ingest of the commons' assurance/test-fixtures
# folder) and prints one line per script: its path, then `ok` or the first error line.
# The checkout stays outside this project (the table in docs/surveilr.md came from it).
#
# Usage: bash scripts/commons-check.sh COMMONS_DIR [RSSD_BINARY]
set -u
COMMONS=${1:?usage: commons-check.sh COMMONS_DIR [RSSD_BINARY]}
BIN=$(realpath "${2:-target/debug/rssd}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$COMMONS" || exit 2
find . -name '*.sql' | sort | while read -r script; do
    db="$WORK/rssd.sqlite.db"
    rm -f "$db" "$db-wal" "$db-shm"
    "$BIN" -d "$db" ingest assurance/test-fixtures --no-progress </dev/null >/dev/null 2>&1
    # Scripts read files next to them, so each runs from its own folder.
    err=$(cd "$(dirname "$script")" && timeout 120 "$BIN" -d "$db" shell "$(basename "$script")" </dev/null 2>&1 >/dev/null | grep -v '^$' | head -1)
    echo "${script#./} | ${err:-ok}"
done
