"""NumPy baselines for bench/compare.sh: the recipes a user would write by hand.

    python baseline_numpy.py CASE ROWSxCOLS OUT [--timings FILE]
    python baseline_numpy.py --info

CASE is one of
  he-normal         default_rng().standard_normal(shape, dtype=float32) * sqrt(2/fan_in)
  xavier-uniform    default_rng().random(shape, dtype=float32) mapped to U(-a, a),
                    a = sqrt(6/(fan_in+fan_out))
  truncated-normal  standard_normal(float32), out-of-[-2, 2] values redrawn until none
                    are left (NumPy has no truncated normal; this is the usual recipe)
  orthogonal        q, r = np.linalg.qr(rng.standard_normal((n, n))); q *= sign(diag(r)),
                    saved as float32 (the QR runs in float64, as NumPy users write it)
  json              the he-normal draw, then json.dump(w.tolist(), f)

Every .npy case ends with np.save(OUT, w). Fans are those of a dense `in x out` matrix
(for the square shapes benchmarked, every layout convention gives the same numbers).
--timings FILE writes one line "IMPORT DRAW SAVE" (seconds), measured inside the process
(interpreter start-up is in compare.sh's wall time but not here).
"""

import time

T0 = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

T_IMPORT = time.perf_counter()


def draw(case, shape):
    rng = np.random.default_rng()
    if case == "numpy-mode":
        # What `weightinit gen --rng numpy --seed 1 --scheme normal` reproduces.
        return np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    fan_in, fan_out = shape[0], shape[1]
    if case in ("he-normal", "json"):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
    if case == "xavier-uniform":
        a = np.float32(np.sqrt(6.0 / (fan_in + fan_out)))
        w = rng.random(shape, dtype=np.float32)
        w *= 2 * a
        w -= a
        return w
    if case == "truncated-normal":
        w = rng.standard_normal(shape, dtype=np.float32)
        bad = np.flatnonzero(np.abs(w) > 2)
        flat = w.reshape(-1)
        while bad.size:
            flat[bad] = rng.standard_normal(bad.size, dtype=np.float32)
            bad = bad[np.abs(flat[bad]) > 2]
        return w
    if case == "orthogonal":
        q, r = np.linalg.qr(rng.standard_normal(shape))
        q *= np.sign(np.diag(r))
        return q.astype(np.float32)
    raise SystemExit(f"baseline_numpy.py: unknown case {case!r}")


def save(case, w, out):
    if case == "json":
        with open(out, "w") as f:
            json.dump(w.tolist(), f)
    else:
        np.save(out, w)


def blas_info():
    """Which BLAS NumPy runs and with how many threads, as one line (or a skip line)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return blas_info_ctypes()
    parts = [
        f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')} "
        f"threads={p.get('num_threads')}"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "numpy BLAS (threadpoolctl): " + ("; ".join(parts) or "none loaded")


def blas_info_ctypes():
    """Without threadpoolctl: ask a loaded OpenBLAS for its kernel and thread count."""
    import ctypes

    np.linalg.qr(np.eye(2))  # make sure the BLAS library is loaded
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        libs = set()
    for path in sorted(libs):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            try:
                corename = getattr(lib, f"{prefix}openblas_get_corename{suffix}")
                threads = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = ctypes.c_char_p
            return (
                f"numpy BLAS (OpenBLAS via ctypes; threadpoolctl not installed): "
                f"{path.rsplit('/', 1)[-1]} kernel={corename().decode()} threads={threads()}"
            )
    return "numpy BLAS: skipped (threadpoolctl not installed and no OpenBLAS found to ask)"


def main(argv):
    if argv[1:] == ["--info"]:
        print(f"numpy {np.__version__}")
        print(blas_info())
        return
    if len(argv) not in (4, 6):
        raise SystemExit(__doc__)
    case, shape_text, out = argv[1:4]
    shape = tuple(int(d) for d in shape_text.split("x"))
    t1 = time.perf_counter()
    w = draw(case, shape)
    t2 = time.perf_counter()
    save(case, w, out)
    t3 = time.perf_counter()
    if len(argv) == 6 and argv[4] == "--timings":
        with open(argv[5], "w") as f:
            f.write(f"{T_IMPORT - T0:.6f} {t2 - t1:.6f} {t3 - t2:.6f}\n")


if __name__ == "__main__":
    main(sys.argv)
