"""Keras 3 baselines for bench/compare.sh (run only when `import keras` works).

    python baseline_keras.py CASE ROWSxCOLS OUT [--timings FILE]
    python baseline_keras.py --info

CASE is one of he-normal (HeNormal), xavier-uniform (GlorotUniform), truncated-normal
(TruncatedNormal(stddev=1): +-2 stddev, like the others) and orthogonal (Orthogonal);
the tensor is converted with keras.ops.convert_to_numpy and saved with np.save(OUT, w).
--timings FILE writes one line "IMPORT DRAW SAVE" (seconds), measured inside the process.
The backend is whatever Keras is configured for (KERAS_BACKEND); --info prints it.
Not exercised on the machine this harness was written on (no Keras there).
"""

import time

T0 = time.perf_counter()

import sys  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

T_IMPORT = time.perf_counter()

INIT = {
    "he-normal": lambda: keras.initializers.HeNormal(),
    "xavier-uniform": lambda: keras.initializers.GlorotUniform(),
    "truncated-normal": lambda: keras.initializers.TruncatedNormal(stddev=1.0),
    "orthogonal": lambda: keras.initializers.Orthogonal(),
}


def main(argv):
    if argv[1:] == ["--info"]:
        print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
        return
    if len(argv) not in (4, 6):
        raise SystemExit(__doc__)
    case, shape_text, out = argv[1:4]
    if case not in INIT:
        raise SystemExit(f"baseline_keras.py: unknown case {case!r}")
    shape = tuple(int(d) for d in shape_text.split("x"))
    t1 = time.perf_counter()
    w = keras.ops.convert_to_numpy(INIT[case]()(shape, dtype="float32"))
    t2 = time.perf_counter()
    np.save(out, w)
    t3 = time.perf_counter()
    if len(argv) == 6 and argv[4] == "--timings":
        with open(argv[5], "w") as f:
            f.write(f"{T_IMPORT - T0:.6f} {t2 - t1:.6f} {t3 - t2:.6f}\n")


if __name__ == "__main__":
    main(sys.argv)
