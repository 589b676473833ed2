"""Loads tensors written by `weightinit` with NumPy and checks them.

Called by tests/interop/numpy_and_safetensors.rs as

    python check_numpy.py CASES.json

where CASES.json is a list of objects:

    {"npy": PATH, "json": PATH, "shape": [..], "dtype": "f32" | "f64" | "f16",
     "seed": N, "fan_in": N | null, "fan_out": N | null}

For every case it checks that

* `np.load` reads the .npy with the expected shape, dtype (little-endian f4/f8) and
  C order;
* the JSON document's `data`, read by Python's own `json` module and converted with
  `np.array(data, dtype)`, equals the .npy array bit for bit (compared as unsigned
  integers, so -0.0 vs 0.0 or a one-ulp difference is caught);
* every JSON number is *exactly* the stored value (for f32 tensors the decimal parses,
  as a double, to the float32 value widened, not merely to something that rounds to it);
* the metadata has `fan_in`, `fan_out` and `seed`, with the expected values, and its
  `shape` and `dtype` agree with the .npy.

Prints one line per case and exits non-zero on the first failure.
"""

import json
import sys

import numpy as np

DTYPES = {
    "f32": (np.dtype("<f4"), np.uint32),
    "f64": (np.dtype("<f8"), np.uint64),
    "f16": (np.dtype("<f2"), np.uint16),
}


def fail(case, message):
    sys.stderr.write("FAIL %s: %s\n" % (case["npy"], message))
    sys.exit(1)


def check(case):
    dtype, uint = DTYPES[case["dtype"]]
    shape = tuple(case["shape"])

    a = np.load(case["npy"], allow_pickle=False)
    if a.shape != shape:
        fail(case, "np.load shape %r, expected %r" % (a.shape, shape))
    if a.dtype != dtype:
        fail(case, "np.load dtype %r, expected %r" % (a.dtype.str, dtype.str))
    if not a.flags["C_CONTIGUOUS"]:
        fail(case, "array is not C-contiguous")
    if not np.all(np.isfinite(a)):
        fail(case, "non-finite values in the .npy")

    with open(case["json"], "r", encoding="utf-8") as f:
        doc = json.load(f)

    for key in ("fan_in", "fan_out", "seed"):
        if key not in doc:
            fail(case, "JSON metadata lacks %r" % key)
    for key in ("fan_in", "fan_out", "seed"):
        if doc[key] != case[key]:
            fail(case, "JSON %s = %r, expected %r" % (key, doc[key], case[key]))
    if list(doc.get("shape", [])) != list(shape):
        fail(case, "JSON shape %r, expected %r" % (doc.get("shape"), list(shape)))
    if doc.get("dtype") != case["dtype"]:
        fail(case, "JSON dtype %r, expected %r" % (doc.get("dtype"), case["dtype"]))

    # As a user would load it: Python floats (doubles) converted to the stored dtype.
    b = np.array(doc["data"], dtype=dtype)
    if b.shape != shape:
        fail(case, "JSON data has shape %r, expected %r" % (b.shape, shape))
    if not np.array_equal(a.view(uint), b.view(uint)):
        diff = np.flatnonzero(a.view(uint).ravel() != b.view(uint).ravel())
        i = int(diff[0])
        fail(
            case,
            "%d elements differ bit-wise; first at flat index %d: npy %r, json %r"
            % (diff.size, i, a.ravel()[i], b.ravel()[i]),
        )

    # Stricter: the decimal in the JSON is the stored value itself, not just a value that
    # rounds to it (checked in float64, where the JSON numbers were parsed).
    wide = np.array(doc["data"], dtype=np.float64)
    if not np.array_equal(wide.view(np.uint64), a.astype(np.float64).view(np.uint64)):
        diff = np.flatnonzero(wide.ravel() != a.astype(np.float64).ravel())
        i = int(diff[0]) if diff.size else 0
        fail(
            case,
            "JSON numbers are not exactly the stored values; first at %d: json %r, npy %r"
            % (i, wide.ravel()[i], a.ravel()[i]),
        )

    print(
        "ok %s: shape %s %s, %d values equal bit for bit"
        % (case["npy"], shape, dtype.str, a.size)
    )


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: check_numpy.py CASES.json\n")
        sys.exit(2)
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        cases = json.load(f)
    if not cases:
        sys.stderr.write("no cases given\n")
        sys.exit(1)
    for case in cases:
        check(case)
    print("numpy %s: %d cases ok" % (np.__version__, len(cases)))


if __name__ == "__main__":
    main()
