"""The peers of bench/formats.sh, one load per call, so /usr/bin/time measures each alone.

Usage: python formats.py polars-xlsx BOOK.xlsx DB | duckdb-json ITEMS.json DB
"""
import os
import sys


def polars_xlsx(book, db):
    import polars as pl

    frame = pl.read_excel(book, engine="calamine")
    frame.write_database("data", f"sqlite:///{db}", engine="adbc", if_table_exists="replace")
    print(f"{frame.height} rows")


def duckdb_json(items, db):
    import duckdb

    # The sqlite extension ships in PyPI's duckdb-ext-sqlite; loaded from there, offline.
    import duckdb_ext

    folder = os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v1.4.4", "linux_amd64")
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{os.path.join(folder, 'sqlite_scanner.duckdb_extension')}'")
    con.execute(f"ATTACH '{db}' AS target (TYPE sqlite)")
    con.execute(f"CREATE TABLE target.items AS SELECT * FROM read_json('{items}')")
    print(con.execute("SELECT count(*) FROM target.items").fetchone()[0], "rows")


if __name__ == "__main__":
    kind, source, db = sys.argv[1:4]
    {"polars-xlsx": polars_xlsx, "duckdb-json": duckdb_json}[kind](source, db)
