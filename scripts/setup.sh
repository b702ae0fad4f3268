#!/usr/bin/env bash
# Installs what the tests need beyond Rust itself. Idempotent: installs only what is missing.
set -euo pipefail

need_apt=()
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# The browser test of the HTML report opens it in headless Chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The browser test of `rssd serve` drives Chromium through WebDriver.
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# Peak memory of the bounded-report test (GNU time -v).
[ -x /usr/bin/time ] || need_apt+=(time)
# The progress-bar test runs rssd under a pseudo-terminal with util-linux `script`.
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
# The fleet tests start throwaway PostgreSQL clusters (initdb, pg_ctl) and bench/fleet.sh uses psql.
[ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || need_apt+=(postgresql)
# The fuzz smoke run builds libFuzzer, which is C++.
command -v c++ >/dev/null 2>&1 || need_apt+=(g++)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "setup: please install: ${need_apt[*]}" >&2
        exit 1
    fi
fi
