"""DuckDB 1.4.4 reading a CSV and writing it into a SQLite file through its sqlite extension.

The extension ships in PyPI's duckdb-ext-sqlite and is loaded from there, offline.
Usage: python bench/duckdb_sqlite.py data.csv out.db
"""

import os
import sys

import duckdb
import duckdb_ext


def main(csv, db):
    folder = os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v1.4.4", "linux_amd64")
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{os.path.join(folder, 'sqlite_scanner.duckdb_extension')}'")
    con.execute(f"ATTACH '{db}' AS target (TYPE sqlite)")
    con.execute(f"CREATE TABLE target.t AS SELECT * FROM read_csv('{csv}')")
    print(con.execute("SELECT count(*) FROM target.t").fetchone()[0], "rows")


if __name__ == "__main__":
    main(*sys.argv[1:3])
