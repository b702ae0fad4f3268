#!/usr/bin/env python3
"""Lists pairs of modules in src/ that import each other (a two-file cycle), and longer
cycles between top-level layers (state, ingest, validate, ...). Exit 1 when any is found.

A module is a file (`src/ingest/scan.rs` is `ingest::scan`, a `mod.rs` names its folder).
A reference is any `crate::a::b` / `super::x` / `rssd::a::b` path in the file, resolved to the
longest module that exists; references from a module into its own submodules or parents
are containment, not imports, and are left out.
"""
import re, sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)

modules = {module_of(p): p for p in SRC.rglob("*.rs")}
# src/cli belongs to the binary (src/main.rs), whose `crate::cli` paths resolve the same way.
def resolve(mod, path):
    head, *rest = path.split("::")
    if head in ("crate", "rssd"):
        base = ()
    elif head == "super":
        base = mod[:-1]
        while rest and rest[0] == "super":
            rest, base = rest[1:], base[:-1]
    else:
        return None
    full = base + tuple(rest)
    for n in range(len(full), 0, -1):
        if full[:n] in modules:
            return full[:n]
    return None

edges = {m: set() for m in modules}
for mod, path in modules.items():
    text = re.sub(r"//.*", "", path.read_text())
    # `use a::{b, c::d}` groups are expanded one level, enough for this code base.
    for m in re.finditer(r"\b((?:crate|super|rssd)(?:::\w+)*)::\{([^}]*)\}", text):
        for item in m.group(2).split(","):
            item = item.strip().split(" ")[0]
            if item and item != "self":
                target = resolve(mod, m.group(1) + "::" + item)
                if target: edges[mod].add(target)
            elif item == "self":
                target = resolve(mod, m.group(1))
                if target: edges[mod].add(target)
    for m in re.finditer(r"\b((?:crate|super|rssd)(?:::\w+)+)", text):
        target = resolve(mod, m.group(1))
        if target: edges[mod].add(target)
    edges[mod] = {t for t in edges[mod]
                  if t != mod and t[:len(mod)] != mod and mod[:len(t)] != t}

found = 0
for a in sorted(edges):
    for b in sorted(edges[a]):
        if a < b and a in edges.get(b, ()):
            print(f"two-file cycle: {'::'.join(a)} <-> {'::'.join(b)}")
            found += 1

layers = {}
for a, targets in edges.items():
    for b in targets:
        if a[:1] != b[:1] and a and b:
            layers.setdefault(a[0], set()).add(b[0])
def cycle_from(start):
    stack = [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in sorted(layers.get(node, ())):
            if nxt == start:
                return trail + [start]
            if nxt not in trail:
                stack.append((nxt, trail + [nxt]))
for layer in sorted(layers):
    trail = cycle_from(layer)
    if trail:
        print("layer cycle: " + " -> ".join(trail))
        found += 1
print(f"{len(modules)} modules, {sum(map(len, edges.values()))} imports, {found} cycles")
sys.exit(1 if found else 0)
