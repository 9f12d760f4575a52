#!/usr/bin/env python3
"""Write a C file defining `const char NAME[]` with the bytes of a text file (build step)."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
lines = [f"/* Generated from {src.split('/')[-1]} at build time. */",
         "extern const char " + name + "[];", "const char " + name + "[] ="]
for i in range(0, len(data), 60):
    chunk = data[i:i + 60]
    lines.append('    "' + "".join(f"\\x{b:02x}" for b in chunk) + '"')
lines[-1] += ";" if data else ""
if not data:
    lines.append('    "";')
open(dst, "w").write("\n".join(lines) + "\n")
