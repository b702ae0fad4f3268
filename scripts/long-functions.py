#!/usr/bin/env python3
"""Lists functions in src/ longer than a limit (default 120 lines), and files longer than 600.
Relies on rustfmt's layout: a function's closing brace sits at its `fn` line's indentation.
Exit 1 when any is found."""
import re, sys
from pathlib import Path

LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 120
FILE_LIMIT = 600
SRC = Path(__file__).resolve().parent.parent / "src"
FN = re.compile(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+|async\s+|unsafe\s+)*fn\s+(\w+)")

found = 0
for path in sorted(SRC.rglob("*.rs")):
    lines = path.read_text().splitlines()
    name = path.relative_to(SRC.parent)
    # Unit tests at the end of a file do not count towards its length.
    body = next((i for i, l in enumerate(lines) if l.strip() == "#[cfg(test)]"), len(lines))
    if body > FILE_LIMIT:
        print(f"{name}: {body} lines before its tests")
        found += 1
    for start, line in enumerate(lines):
        m = FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for end in range(start + 1, len(lines)):
            if lines[end] == indent + "}":
                if end - start + 1 > LIMIT:
                    print(f"{name}:{start + 1}: fn {m.group(2)} is {end - start + 1} lines")
                    found += 1
                break
print(f"{found} over the limits ({LIMIT} lines a function, {FILE_LIMIT} a file)")
sys.exit(1 if found else 0)
