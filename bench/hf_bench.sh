#!/usr/bin/env bash
# Issue 14's benchmarks: a checkpoint from a Hugging Face config.json.
#
#   bench/hf_bench.sh [--python PATH] [--runs N] [--skip-8b] [--bin PATH]
#
# 1. TinyLlama-1.1B's config (bench/configs/tinyllama-1.1b.json, bf16): weightinit against
#    transformers' from_config + save_pretrained on CPU (bench/hf_baseline.py; needs torch
#    and transformers in --python): wall time and peak memory, best of N.
# 2. Llama-3-8B's config (bench/configs/llama-3-8b.json, bf16, 16 GB): written as 4 shards
#    (--max-shard-size 5GB) by 4 processes in turn (--shard I/4), total time against dd
#    writing the same bytes; peak memory per process. Needs ~17 GB free on the repo's disk.
# Every timed run writes into a fresh directory after a `sync`, which is deleted after it.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=python3 RUNS=3 SKIP8=0 BIN=""
while (($#)); do
    case $1 in
        --python) PY=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --skip-8b) SKIP8=1 ;;
        --bin) BIN=$2; shift ;;
        *) echo "hf_bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ -z $BIN ]]; then
    (cd "$REPO" && cargo build --release --quiet)
    BIN="$REPO/target/release/weightinit"
fi
WI=$BIN
WORK=$(mktemp -d "$REPO/target/hf-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# timed LABEL CMD...: prints "LABEL wall_s peak_MiB"
timed() {
    local label=$1; shift
    sync
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$WORK/mem" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
    local t1=$EPOCHREALTIME
    awk -v l="$label" -v a="$t0" -v b="$t1" -v m="$(tail -n1 "$WORK/mem")" \
        'BEGIN { printf "%s %.3f %.0f\n", l, b - a, m / 1024 }'
}

echo "## TinyLlama-1.1B config, bf16 (best of $RUNS; wall s, peak MiB)"
for ((r = 1; r <= RUNS; r++)); do
    timed weightinit "$WI" gen --hf-config "$REPO/bench/configs/tinyllama-1.1b.json" -o "$WORK/wi/" --seed 0 --report none
    du -sb "$WORK/wi/model.safetensors" | awk '{ print "bytes", $1 }'
    rm -rf "$WORK/wi"
    if "$PY" -c 'import torch, transformers' 2>/dev/null; then
        timed transformers "$PY" "$REPO/bench/hf_baseline.py" "$REPO/bench/configs/tinyllama-1.1b.json" "$WORK/hf"
        grep from_config "$WORK/err" || true
        rm -rf "$WORK/hf"
    fi
done

((SKIP8)) && exit 0
echo "## Llama-3-8B config, bf16, 4 shards by 4 processes in turn (wall s, peak MiB)"
for ((r = 1; r <= RUNS; r++)); do
    total=0
    for i in 1 2 3 4; do
        line=$(timed "shard-$i" "$WI" gen --hf-config "$REPO/bench/configs/llama-3-8b.json" --max-shard-size 5GB --shard "$i/4" -o "$WORK/l3/" --seed 0 --report none)
        echo "$line"
        total=$(awk -v t="$total" -v l="$line" 'BEGIN { split(l, f, " "); print t + f[2] }')
    done
    bytes=$(du -cb "$WORK"/l3/*.safetensors | tail -n1 | cut -f1)
    echo "weightinit-4-processes $total s for $bytes bytes"
    rm -rf "$WORK/l3"
    timed dd dd if=/dev/zero of="$WORK/dd.bin" bs=4M count="$bytes" iflag=count_bytes status=none
    rm -f "$WORK/dd.bin"
done
