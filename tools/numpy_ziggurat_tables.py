#!/usr/bin/env python3
"""Writes src/compat/numpy/tables.rs: NumPy's ziggurat tables, carried over verbatim.

`--rng numpy` must draw exactly NumPy's normals, and NumPy's ziggurat uses tables that
are stored, not computed, in numpy/random/src/distributions/ziggurat_constants.h (NumPy,
BSD-3-Clause). They are published constants, so they are copied as they are (not
recomputed, which could differ in the last bit), each literal exactly as written there.

Usage: python3 tools/numpy_ziggurat_tables.py PATH/TO/ziggurat_constants.h
(the header is in NumPy's source distribution, e.g. numpy-2.4.6.tar.gz from PyPI).
"""
import re
import sys
from pathlib import Path

NAMES = {
    # C name: (Rust name, Rust element type, literal suffix)
    "ki_double": ("KI_DOUBLE", "u64", ""),
    "wi_double": ("WI_DOUBLE", "f64", ""),
    "fi_double": ("FI_DOUBLE", "f64", ""),
    "ki_float": ("KI_FLOAT", "u32", ""),
    "wi_float": ("WI_FLOAT", "f32", "_f32"),
    "fi_float": ("FI_FLOAT", "f32", "_f32"),
}


def literals(body):
    out = []
    for token in body.replace("\n", " ").split(","):
        token = token.strip()
        if not token:
            continue
        token = re.sub(r"(ULL|UL|U|f|F)$", "", token)
        out.append(token)
    return out


def main():
    header = Path(sys.argv[1]).read_text()
    rust = [
        "//! NumPy's ziggurat tables, copied verbatim from numpy/random/src/distributions/",
        "//! ziggurat_constants.h (NumPy 2.x, BSD-3-Clause) by tools/numpy_ziggurat_tables.py.",
        "//! Do not edit: regenerate with that script. Published constants, not computed here,",
        "//! because `--rng numpy` must reproduce NumPy's draws bit for bit.",
        "",
        "#![allow(clippy::unreadable_literal, clippy::excessive_precision)]",
        "",
    ]
    for c_name, (r_name, ty, suffix) in NAMES.items():
        m = re.search(r"static const \w+ " + c_name + r"\[\] = \{(.*?)\};", header, re.S)
        if not m:
            sys.exit(f"{c_name} not found in {sys.argv[1]}")
        values = literals(m.group(1))
        if len(values) != 256:
            sys.exit(f"{c_name}: {len(values)} entries, expected 256")
        rust.append(f"pub static {r_name}: [{ty}; 256] = [")
        for v in values:
            if ty.startswith("f") and not re.search(r"[.eE]", v):
                v += ".0"
            rust.append(f"    {v}{suffix},")
        rust.append("];")
        rust.append("")
    for c_name, r_name, ty in [
        ("ziggurat_nor_r", "NOR_R", "f64"),
        ("ziggurat_nor_inv_r", "NOR_INV_R", "f64"),
        ("ziggurat_nor_r_f", "NOR_R_F", "f32"),
        ("ziggurat_nor_inv_r_f", "NOR_INV_R_F", "f32"),
    ]:
        m = re.search(r"static const \w+ " + c_name + r"\s*=\s*([0-9.eE+-]+)f?;", header)
        if not m:
            sys.exit(f"{c_name} not found")
        suffix = "_f32" if ty == "f32" else ""
        rust.append(f"pub const {r_name}: {ty} = {m.group(1)}{suffix};")
    out = Path(__file__).resolve().parent.parent / "src/compat/numpy/tables.rs"
    out.write_text("\n".join(rust) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
