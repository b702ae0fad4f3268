#!/usr/bin/env bash
# Agreement with frictionless-py: installs it into bench/.venv-frictionless (once), builds
# rssd, and compares both on tests/validation-corpus. Extra arguments go to the Python script
# (e.g. --write-expected).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/.venv-frictionless
if [ ! -x "$venv/bin/frictionless" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'frictionless>=5,<6'
fi
cargo build --release --quiet
"$venv/bin/python" bench/validate-compare.py --rssd target/release/rssd --corpus tests/validation-corpus "$@"
