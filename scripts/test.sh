#!/usr/bin/env bash
# The project's one test command (README, and .ci/run runs exactly this).
# Formatting, lints, then every test: unit, end-to-end through the binary, doc examples, and
# a short fuzzing smoke run of ingest's readers (a fixed seed and input count).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast
else
    cargo test --locked --no-fail-fast --lib --bins --tests
fi
cargo test --locked --doc
bash scripts/fuzz.sh --smoke
