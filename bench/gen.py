"""Generates the benchmark's data: a 10-column CSV, many small CSVs, an xlsx, a JSON array.

Usage: python3 gen.py csv OUT ROWS | small DIR FILES ROWS | xlsx OUT ROWS | json OUT ITEMS
       | ods OUT ROWS
Deterministic (seeded), so every run compares the same files.
"""
import csv
import os
import random
import sys

CITIES = ["Dhaka", "Lagos", "Lima", "Oslo", "Perth", "Quito", "Riga", "Sofia"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]


def rows(n, seed=7):
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        yield [
            i,
            f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS).title()}",
            rnd.randint(18, 95),
            str(rnd.randint(0, 99999) / 100),
            rnd.choice(CITIES),
            f"{rnd.randint(0, 999):03d}",
            f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            rnd.randint(0, 1),
            f"{rnd.randint(1, 10**7)}.{rnd.randint(1, 9)}",
            " ".join(rnd.choice(WORDS) for _ in range(8)),
        ]


HEADER = ["id", "name", "age", "score", "city", "code", "visit_date", "flag", "amount", "note"]


def write_csv(path, n, seed=7):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows(n, seed))


def write_json(path, n):
    """A top-level array of objects with 8 fields (the CSV's first 8 columns), one per line."""
    import json

    keys = [json.dumps(k) for k in HEADER[:8]]
    with open(path, "w") as f:
        f.write("[\n")
        for i, row in enumerate(rows(n)):
            # Numbers as JSON numbers, the rest as strings.
            values = [str(row[0]), json.dumps(row[1]), str(row[2]), row[3], json.dumps(row[4]),
                      json.dumps(row[5]), json.dumps(row[6]), str(row[7])]
            item = ", ".join(f"{k}: {v}" for k, v in zip(keys, values))
            f.write(("" if i == 0 else ",\n") + "{" + item + "}")
        f.write("\n]\n")


def write_ods(path, n):
    """An OpenDocument spreadsheet of the CSV's rows: numbers as floats, the rest as strings."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value):
        if isinstance(value, int):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        return (f'<table:table-cell office:value-type="string"><text:p>{escape(value)}'
                "</text:p></table:table-cell>")

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"),
                      "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("META-INF/manifest.xml", manifest)
        with book.open("content.xml", "w") as content:
            content.write(f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
                          'office:version="1.2"><office:body><office:spreadsheet>'
                          '<table:table table:name="data">'.encode())
            for row in [HEADER, *rows(n)]:
                cells = "".join(cell(v) for v in row)
                content.write(f"<table:table-row>{cells}</table:table-row>".encode())
            content.write(b"</table:table></office:spreadsheet></office:body>"
                          b"</office:document-content>")


def main():
    kind = sys.argv[1]
    if kind == "csv":
        write_csv(sys.argv[2], int(sys.argv[3]))
    elif kind == "small":
        folder, files, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        os.makedirs(folder, exist_ok=True)
        for k in range(files):
            write_csv(os.path.join(folder, f"part_{k:05d}.csv"), n, seed=k)
    elif kind == "xlsx":
        import xlsxwriter

        book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
        sheet = book.add_worksheet("data")
        sheet.write_row(0, 0, HEADER)
        for r, row in enumerate(rows(int(sys.argv[3])), start=1):
            sheet.write_row(r, 0, row)
        book.close()
    elif kind == "ods":
        write_ods(sys.argv[2], int(sys.argv[3]))
    elif kind == "json":
        write_json(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
