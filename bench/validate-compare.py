#!/usr/bin/env python3
"""Runs frictionless-py and rssd on the same corpus of files and schemas and prints, per file
and issue kind, both counts.

Run through bench/validate-compare.sh (which installs frictionless into bench/.venv-frictionless).
Each case in the corpus is NAME.csv with NAME.schema.json or NAME.schema.yaml, or a Data
Package NAME.package.json whose resources name their files. rssd's issue codes are compared
by their Frictionless base name (`type-error/date` counts as `type-error`).

  --write-expected   store frictionless' counts (plus the deliberate differences kept from the
                     existing file) as the corpus' expected.json
Exit status 1 when a count differs and the difference is not listed as deliberate.
"""
import argparse
import collections
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

from frictionless import Package, Resource, Schema


def cases(corpus):
    names = sorted(os.listdir(corpus))
    for name in names:
        for suffix in (".schema.json", ".schema.yaml"):
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                yield stem, {"kind": "table", "schema": name, "files": [stem + ".csv"]}
        if name.endswith(".package.json"):
            stem = name[: -len(".package.json")]
            with open(os.path.join(corpus, name)) as f:
                package = json.load(f)
            files = [r["path"] for r in package["resources"]]
            yield stem, {"kind": "package", "schema": name, "files": files}


def frictionless_counts(corpus, case):
    """{file: {error type: count}} as frictionless reports them."""
    cwd = os.getcwd()
    os.chdir(corpus)
    try:
        if case["kind"] == "package":
            report = Package(case["schema"]).validate()
        else:
            resource = Resource(path=case["files"][0], schema=Schema(case["schema"]))
            report = resource.validate()
    finally:
        os.chdir(cwd)
    counts = {f: collections.Counter() for f in case["files"]}
    for task in report.tasks:
        path = os.path.basename(task.place) if getattr(task, "place", None) else case["files"][0]
        for error in task.errors:
            counts.setdefault(path, collections.Counter())[error.type] += 1
    for error in report.errors:
        counts[case["files"][0]]["report:" + error.type] += 1
    return {f: dict(c) for f, c in counts.items()}


def load_csv(conn, path, table):
    """Loads a CSV as TEXT columns, empty cells NULL (what rssd's loader stores)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    columns = ", ".join('"%s"' % h.replace('"', '""') for h in header)
    conn.execute('CREATE TABLE "%s" (%s)' % (table, columns))
    marks = ", ".join("?" for _ in header)
    for row in data:
        row = (row + [""] * len(header))[: len(header)]
        conn.execute('INSERT INTO "%s" VALUES (%s)' % (table, marks), [c if c != "" else None for c in row])
    conn.commit()


def rssd_counts(rssd, corpus, case, workdir, via):
    """{file: {base code: count}} from one rssd session over the case's files: `rssd ingest
    --schema` on the files (via="ingest"), or `rssd validate` on tables loaded beforehand."""
    db = os.path.join(workdir, "corpus.db")
    if os.path.exists(db):
        os.remove(db)
    schema = os.path.join(corpus, case["schema"])
    paths = [os.path.join(corpus, f) for f in case["files"]]
    if via == "ingest":
        args = [rssd, "-d", db, "ingest", *paths, "--schema", schema, "--fail-on", "never", "--no-progress"]
    else:
        conn = sqlite3.connect(db)
        for path in paths:
            load_csv(conn, path, os.path.splitext(os.path.basename(path))[0])
        conn.close()
        args = [rssd, "-d", db, "validate", "--schema", schema, "--fail-on", "never"]
        for path in paths:
            args += ["--table", os.path.splitext(os.path.basename(path))[0]]
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("rssd failed on %s: %s" % (case["schema"], result.stderr.strip()))
    conn = sqlite3.connect(db)
    counts = {f: collections.Counter() for f in case["files"]}
    query = """
        SELECT coalesce(e.ingest_table_name, e.ingest_src), json_extract(i.elaboration, '$.code')
        FROM orchestration_session_issue i JOIN orchestration_session_entry e
          ON e.orchestration_session_entry_id = i.session_entry_id
        WHERE i.session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)"""
    for table, code in conn.execute(query):
        counts[os.path.basename(table) if table.endswith(".csv") else table + ".csv"][code.split("/")[0]] += 1
    conn.close()
    return {f: dict(c) for f, c in counts.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rssd", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--write-expected", action="store_true")
    args = parser.parse_args()
    corpus = os.path.abspath(args.corpus)
    expected_path = os.path.join(corpus, "expected.json")
    deliberate = {}
    if os.path.exists(expected_path):
        with open(expected_path) as f:
            deliberate = json.load(f).get("deliberate_differences", {})
    frictionless_all, agree, differ, explained = {}, 0, 0, 0
    print("%-32s %-18s %12s %12s %14s" % ("file", "issue kind", "frictionless", "rssd ingest", "rssd validate"))
    with tempfile.TemporaryDirectory() as workdir:
        all_cases = list(cases(corpus))
        for name, case in all_cases:
            theirs = frictionless_counts(corpus, case)
            ours = {via: rssd_counts(os.path.abspath(args.rssd), corpus, case, workdir, via) for via in ("ingest", "validate")}
            frictionless_all[name] = theirs
            for file in case["files"]:
                kinds = sorted(set(theirs.get(file, {})).union(*(set(o.get(file, {})) for o in ours.values())))
                if not kinds:
                    print("%-32s %-18s %12d %12d %14d" % (file, "(none)", 0, 0, 0))
                for kind in kinds:
                    a = theirs.get(file, {}).get(kind, 0)
                    b = [ours[via].get(file, {}).get(kind, 0) for via in ("ingest", "validate")]
                    wanted = deliberate.get(name, {}).get("rssd", {}).get(file, {}).get(kind)
                    mark = ""
                    if all(x == a for x in b):
                        agree += 1
                    elif wanted is not None and all(x == wanted for x in b):
                        explained += 1
                        mark = "  deliberate: " + deliberate[name]["why"]
                    else:
                        differ += 1
                        mark = "  DIFFERS"
                    print("%-32s %-18s %12d %12d %14d%s" % (file, kind, a, b[0], b[1], mark))
    print("\n%d cases; %d counts agree, %d differ deliberately (see README), %d differ unexplained"
          % (len(all_cases), agree, explained, differ))
    if args.write_expected:
        with open(expected_path, "w") as f:
            json.dump({"frictionless": frictionless_all, "deliberate_differences": deliberate}, f, indent=2, sort_keys=True)
            f.write("\n")
        print("wrote", expected_path)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
