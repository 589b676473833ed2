#!/usr/bin/env bash
# Issue 26's benchmark: `gen --hf-config --rng torch` (transformers' own draws, replayed)
# against transformers doing it, for TinyLlama-1.1B's config (bf16, 2.2 GB):
#
#   bench/hf_torch_bench.sh [--python PATH] [--runs N] [--bin PATH]
#
# Per run, in turn, each into a fresh directory after a `sync`: weightinit; transformers
# (`torch.manual_seed(0); from_config(cfg).save_pretrained(dir)`, bench/hf_baseline.py);
# dd writing the same number of bytes. Prints wall seconds and peak MiB per run, then the
# best and median of each. After the first run, the two files are compared tensor by
# tensor (they must be equal: this is the same model). Needs torch and transformers in
# --python, and ~5 GB free on the repo's disk.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=python3 RUNS=5 BIN=""
while (($#)); do
    case $1 in
        --python) PY=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --bin) BIN=$2; shift ;;
        *) echo "hf_torch_bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ -z $BIN ]]; then
    (cd "$REPO" && cargo build --release --quiet)
    BIN="$REPO/target/release/weightinit"
fi
CONFIG="$REPO/bench/configs/tinyllama-1.1b.json"
WORK=$(mktemp -d "$REPO/target/hf-torch-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# timed LABEL CMD...: appends "LABEL wall_s peak_MiB" to $WORK/times and prints it
timed() {
    local label=$1; shift
    sync
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$WORK/mem" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
    local t1=$EPOCHREALTIME
    awk -v l="$label" -v a="$t0" -v b="$t1" -v m="$(tail -n1 "$WORK/mem")" \
        'BEGIN { printf "%s %.3f %.0f\n", l, b - a, m / 1024 }' | tee -a "$WORK/times"
}

echo "## TinyLlama-1.1B config, bf16, --rng torch --seed 0 against transformers (wall s, peak MiB)"
for ((r = 1; r <= RUNS; r++)); do
    timed weightinit "$BIN" gen --hf-config "$CONFIG" --rng torch --seed 0 -o "$WORK/wi/" --report none
    timed transformers "$PY" "$REPO/bench/hf_baseline.py" "$CONFIG" "$WORK/hf" 0
    grep from_config "$WORK/err" || true
    bytes=$(du -sb "$WORK/wi/model.safetensors" | cut -f1)
    timed dd dd if=/dev/zero of="$WORK/dd.bin" bs=4M count="$bytes" iflag=count_bytes status=none
    if ((r == 1)); then
        "$PY" - "$WORK/wi/model.safetensors" "$WORK/hf/model.safetensors" <<'PY'
import sys
import torch
from safetensors.torch import load_file
ours, theirs = load_file(sys.argv[1]), load_file(sys.argv[2])
assert set(ours) == set(theirs), set(ours) ^ set(theirs)
bad = [k for k in theirs if not torch.equal(ours[k], theirs[k])]
print(f"equal tensors: {len(theirs) - len(bad)} of {len(theirs)}")
sys.exit(1 if bad else 0)
PY
    fi
    rm -rf "$WORK/wi" "$WORK/hf" "$WORK/dd.bin"
done
echo "## best and median of $RUNS (wall s; peak MiB of the best run)"
for label in weightinit transformers dd; do
    grep "^$label " "$WORK/times" | sort -k2 -n | awk -v l="$label" '
        { t[NR] = $2; m[NR] = $3 }
        END { med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
              printf "%s best %.2f median %.2f peak %d MiB\n", l, t[1], med, m[1] }'
done
