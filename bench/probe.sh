#!/usr/bin/env bash
# Times `weightinit probe` on issue 6's example against the same work in NumPy, in one
# run on one machine, and prints a markdown table (issue 6: "a 50-layer x 512-wide probe
# with batch 1024 for five schemes in under a few seconds on 2 cores").
#
#   bench/probe.sh [--runs N] [--python PATH] [--bin PATH]
#
# weightinit is timed around the whole process (start-up, drawing the weights, both
# passes, statistics, printing); the NumPy baseline (bench/probe_baseline.py) reports
# its own compute time, without interpreter start-up and imports, so the ratios
# favour NumPy slightly. NumPy's BLAS uses every core, as faer does. Two baselines:
# float64 products (the plain NumPy way) and float32 products of float32 casts (the
# arithmetic weightinit uses).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=5 PY="" BIN=""
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift ;;
        --python) PY=${2:?}; shift ;;
        --bin) BIN=${2:?}; shift ;;
        -h | --help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "probe.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
if [[ -z $PY ]]; then
    if [[ -x $REPO/.venv/bin/python ]]; then PY="$REPO/.venv/bin/python"; else PY=python3; fi
fi
if [[ -z $BIN ]]; then
    (cd "$REPO" && cargo build --release --quiet)
    BIN="$REPO/target/release/weightinit"
fi

LAYERS=784-512x50-10 BATCH=1024
SCHEMES=he-normal,xavier-normal,normal:std=0.01,normal:std=1,zeros
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

wi=() np=() np32=()
for ((r = 1; r <= RUNS; r++)); do
    start=$EPOCHREALTIME
    "$BIN" probe --layers $LAYERS --activation relu --scheme $SCHEMES --batch $BATCH \
        --seed $r --no-chart >/dev/null
    wi+=("$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')")
    if "$PY" -c 'import numpy' 2>/dev/null; then
        np+=("$("$PY" "$REPO/bench/probe_baseline.py" $LAYERS $BATCH 5 float64)")
        np32+=("$("$PY" "$REPO/bench/probe_baseline.py" $LAYERS $BATCH 5 float32)")
    fi
    echo "[probe] run $r: weightinit ${wi[-1]} s, numpy ${np[-1]:--} s, numpy float32 ${np32[-1]:--} s" >&2
done
t_wi=$(printf '%s\n' "${wi[@]}" | median)
echo "probe $LAYERS, relu, batch $BATCH, 5 schemes ($SCHEMES); $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo "| tool | median s | runs (s) | t_numpy64 / t | t_numpy32 / t |"
echo "|---|---|---|---|---|"
if ((${#np[@]})); then
    t_np=$(printf '%s\n' "${np[@]}" | median)
    t_np32=$(printf '%s\n' "${np32[@]}" | median)
    r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    echo "| weightinit probe (whole process) | $t_wi | ${wi[*]} | $(r "$t_np" "$t_wi") | $(r "$t_np32" "$t_wi") |"
    echo "| NumPy, float64 products (compute only) | $t_np | ${np[*]} | 1 | |"
    echo "| NumPy, float32 products (compute only) | $t_np32 | ${np32[*]} | | 1 |"
else
    echo "| weightinit probe (whole process) | $t_wi | ${wi[*]} | – (no NumPy) | |"
fi
