#!/usr/bin/env bash
# Regenerates the probe figures and tables of docs/inspect.md, "Why initialization matters":
#   docs/probe/relu.png, relu.txt   (issue 6's first example, seed 1)
#   docs/probe/tanh.png, tanh.txt   (issue 6's second example, seed 1)
# The images and tables are a pure function of the commands below (fixed seeds; the
# PNG encoder and the embedded font make the bytes the same on every machine), except
# the timing line, which is cut from the tables.
#
#   docs/probe/make_figures.sh [--bin PATH]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$REPO/docs/probe"
BIN=""
if [[ ${1:-} == --bin ]]; then BIN=$(realpath "${2:?--bin needs a path}"); fi
if [[ -z $BIN ]]; then
    (cd "$REPO" && cargo build --release --quiet)
    BIN="$REPO/target/release/weightinit"
fi

figure() {
    local name=$1
    shift
    # The last line of the table is the wall time: machine-dependent, left out.
    # Into a temporary file first: a failed run leaves the committed table alone.
    if ! (cd "$OUT" && "$BIN" probe "$@" --seed 1 --plot "$name.png" --force) |
        sed '$d' | sed '$d' >"$OUT/$name.txt.new"; then
        rm -f "$OUT/$name.txt.new"
        echo "make_figures.sh: the probe for $name failed" >&2
        exit 1
    fi
    mv "$OUT/$name.txt.new" "$OUT/$name.txt"
    echo "wrote $OUT/$name.png and $OUT/$name.txt" >&2
}

figure relu --layers 784-512x50-10 --activation relu \
    --scheme he-normal,xavier-normal,normal:std=0.01,normal:std=1,zeros
figure tanh --layers 256x30 --activation tanh \
    --scheme xavier-uniform,he-uniform,normal:std=0.01,normal:std=1,zeros
