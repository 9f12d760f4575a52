#!/usr/bin/python3
"""Layers point one way: check includes (and, given the library, calls) against layers.txt.

usage: check_layers.py SOURCE_ROOT [NM LIBRARY.a]

Every file of a layer folder may include `slawatch/MODULE.h` only when MODULE's layer is its own
or one its layer uses, and a private `*_int.h` only from its own folder. Public headers are held
to their module's layer. With NM and the static library, every function or object a layer's
object file takes from another object file must come from an allowed layer too (a declaration
written by hand instead of an include does not get past). Prints one line per violation and
exits 1 when there is any.
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_table(path):
    uses, layer_of = {}, {}
    problems = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if words[0] == "layer":
                name = words[1]
                if len(words) > 2 and words[2] != "uses":
                    problems.append(f"{path}:{n}: expected `layer NAME uses ...`")
                uses[name] = set(words[3:])
                continue
            if not words[0].endswith(":"):
                problems.append(f"{path}:{n}: expected `layer ...` or `LAYER: MODULE ...`")
                continue
            lay = words[0][:-1]
            if lay not in uses:
                problems.append(f"{path}:{n}: unknown layer {lay}")
            for mod in words[1:]:
                if mod in layer_of:
                    problems.append(f"{path}:{n}: module {mod} listed twice")
                layer_of[mod] = lay
    for lay, used in uses.items():
        for u in used - set(uses):
            problems.append(f"{path}: layer {lay} uses unknown layer {u}")
    return uses, layer_of, problems


def allowed(uses, lay):
    return uses[lay] | {lay}


def check_table(root, uses, layer_of):
    """The table lists every public header, and each module's code sits in its layer's folder."""
    problems = []
    inc = os.path.join(root, "include", "slawatch")
    headers = {h[:-2] for h in os.listdir(inc) if h.endswith(".h")}
    for mod in sorted(headers - set(layer_of)):
        problems.append(f"include/slawatch/{mod}.h: not in layers.txt")
    for mod in sorted(set(layer_of) - headers):
        problems.append(f"layers.txt: module {mod} has no include/slawatch/{mod}.h")
    for mod, lay in sorted(layer_of.items()):
        for other in uses:
            if other != lay and os.path.exists(os.path.join(root, other, mod + ".c")):
                problems.append(f"{other}/{mod}.c: module {mod} is listed in layer {lay}")
    return problems


def check_includes(root, uses, layer_of):
    problems = []
    files = []
    for lay in uses:
        d = os.path.join(root, lay)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith((".c", ".h")):
                files.append((f"{lay}/{name}", lay))
    inc = os.path.join(root, "include", "slawatch")
    for name in sorted(os.listdir(inc)):
        if name.endswith(".h") and name[:-2] in layer_of:
            files.append((f"include/slawatch/{name}", layer_of[name[:-2]]))
    for rel, lay in files:
        folder = rel.split("/")[0] if not rel.startswith("include/") else None
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if target.startswith("slawatch/"):
                    mod = target[len("slawatch/"):-2]
                    other = layer_of.get(mod)
                    if other is None:
                        problems.append(f"{rel}:{n}: includes {target}, not in layers.txt")
                    elif other not in allowed(uses, lay):
                        problems.append(f"{rel}:{n}: {lay} includes {target} ({other})")
                elif target.endswith("_int.h"):
                    where = target.split("/")[0] if "/" in target else folder
                    if where != folder:
                        problems.append(f"{rel}:{n}: {lay} includes {target}, private to {where}/")
    return problems


def check_symbols(nm, lib, uses):
    """Undefined references of each layer's objects against the layer that defines them."""
    out = subprocess.run([nm, "-A", "-g", lib], capture_output=True, text=True, check=True).stdout
    defined, wanted = {}, []
    for line in out.splitlines():
        # "lib.a:collector_prommap.c.o:0000000000000000 T sw_prommap_new" or "... U name"
        head, _, rest = line.rpartition(":")
        obj = os.path.basename(head.split(":")[-1])
        parts = rest.split()
        if len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        lay = obj.split("_", 1)[0]
        if lay not in uses:
            continue  # generated code (protobuf), used by any layer
        src = obj.split("_", 1)[1].removesuffix(".o")
        if kind == "U":
            wanted.append((f"{lay}/{src}", lay, sym))
        else:
            defined[sym] = (f"{lay}/{src}", lay)
    problems = []
    for rel, lay, sym in wanted:
        if sym in defined:
            where, other = defined[sym]
            if other not in allowed(uses, lay):
                problems.append(f"{rel}: {lay} calls {sym} ({where}, {other})")
    return problems


def main(argv):
    if len(argv) not in (2, 4):
        sys.exit(__doc__)
    root = argv[1]
    uses, layer_of, problems = read_table(os.path.join(root, "layers.txt"))
    if not problems:
        problems += check_table(root, uses, layer_of)
        problems += check_includes(root, uses, layer_of)
        if len(argv) == 4:
            problems += check_symbols(argv[2], argv[3], uses)
    for p in problems:
        print(p)
    print(f"layers: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
