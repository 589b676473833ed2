"""PyTorch (CPU) baselines for bench/compare.sh.

    python baseline_torch.py CASE ROWSxCOLS OUT [--timings FILE]
    python baseline_torch.py --info

CASE is one of
  he-normal         torch.nn.init.kaiming_normal_(torch.empty(shape))   (gain sqrt(2), fan_in)
  xavier-uniform    torch.nn.init.xavier_uniform_(torch.empty(shape))
  truncated-normal  torch.nn.init.trunc_normal_(torch.empty(shape))     (N(0, 1) cut at +-2)
  orthogonal        torch.nn.init.orthogonal_(torch.empty(shape))
  torch-mode        torch.manual_seed(1); torch.empty(shape).normal_()   (what --rng torch reproduces)

then np.save(OUT, t.numpy()). --timings FILE writes one line "IMPORT DRAW SAVE" (seconds),
measured inside the process (IMPORT covers both torch and numpy).
"""

import time

T0 = time.perf_counter()

import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

T_IMPORT = time.perf_counter()

INIT = {
    "he-normal": torch.nn.init.kaiming_normal_,
    "xavier-uniform": torch.nn.init.xavier_uniform_,
    "truncated-normal": torch.nn.init.trunc_normal_,
    "orthogonal": torch.nn.init.orthogonal_,
    "torch-mode": lambda t: (torch.manual_seed(1), t.normal_()),
}


def main(argv):
    if argv[1:] == ["--info"]:
        print(
            f"torch {torch.__version__}: intra-op threads={torch.get_num_threads()}, "
            f"MKL={torch.backends.mkl.is_available()}, "
            f"OpenMP={torch.backends.openmp.is_available()}"
        )
        return
    if len(argv) not in (4, 6):
        raise SystemExit(__doc__)
    case, shape_text, out = argv[1:4]
    if case not in INIT:
        raise SystemExit(f"baseline_torch.py: unknown case {case!r}")
    shape = tuple(int(d) for d in shape_text.split("x"))
    t1 = time.perf_counter()
    t = torch.empty(shape)
    with torch.no_grad():
        INIT[case](t)
    t2 = time.perf_counter()
    np.save(out, t.numpy())
    t3 = time.perf_counter()
    if len(argv) == 6 and argv[4] == "--timings":
        with open(argv[5], "w") as f:
            f.write(f"{T_IMPORT - T0:.6f} {t2 - t1:.6f} {t3 - t2:.6f}\n")


if __name__ == "__main__":
    main(sys.argv)
