#!/usr/bin/env python3
"""Writes the PTX/cubin objects of the gpu.binary ops in an MLIR module.

usage: attnqat-opt m.mlir --attnqat-gpu-kernels-pipeline=... | extract-ptx.py OUT_PREFIX
Writes OUT_PREFIX.<chip>.ptx (format=isa) or OUT_PREFIX.<chip>.cubin
(format=bin) for every object; MLIR prints object bytes with \\XX escapes.
"""
import re
import sys


def decode(escaped):
    out = bytearray()
    i = 0
    while i < len(escaped):
        c = escaped[i]
        if c == "\\":
            nxt = escaped[i + 1]
            if re.match(r"[0-9A-Fa-f]{2}", escaped[i + 1:i + 3]):
                out.append(int(escaped[i + 1:i + 3], 16))
                i += 3
                continue
            out.extend(nxt.encode())  # \" and \\
            i += 2
            continue
        out.extend(c.encode())
        i += 1
    return bytes(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    text = sys.stdin.read()
    objects = re.findall(
        r'#gpu\.object<#nvvm\.target<chip = "(sm_[0-9a-z]+)"[^>]*>,'
        r'(?:\s*properties = \{[^}]*\},)?\s*(assembly|bin) = "((?:[^"\\]|\\.)*)"',
        text)
    if not objects:
        sys.exit("extract-ptx: no gpu.binary objects in the input")
    for chip, kind, payload in objects:
        path = "%s.%s.%s" % (sys.argv[1], chip, "ptx" if kind == "assembly" else "cubin")
        with open(path, "wb") as f:
            f.write(decode(payload))
        print(path)


if __name__ == "__main__":
    main()
