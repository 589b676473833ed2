#!/usr/bin/env bash
# Batch-generate the weights and biases of an MLP, one .npy file per parameter.
#
#   examples/mlp.sh [OUT_DIR] [SEED]
#
# Layers 784 → 256 → 128 → 10 with ReLU: He-uniform weights (in x out, Keras layout),
# zero biases. Each tensor gets its own --name, so with one seed every layer still draws
# from its own stream; re-running with the same seed rewrites identical bytes.
set -euo pipefail

out=${1:-mlp}
seed=${2:-2024}
weightinit=${WEIGHTINIT:-weightinit}
command -v "$weightinit" >/dev/null || weightinit="cargo run --release --quiet --"

mkdir -p "$out"
sizes=(784 256 128 10)
for ((i = 0; i < ${#sizes[@]} - 1; i++)); do
  fan_in=${sizes[i]}
  fan_out=${sizes[i + 1]}
  $weightinit gen --scheme he-uniform --shape "${fan_in}x${fan_out}" \
    --name "fc$i.weight" --seed "$seed" -o "$out/fc$i.weight.npy" --force --report none
  $weightinit gen --scheme zeros --shape "$fan_out" \
    --name "fc$i.bias" --seed "$seed" -o "$out/fc$i.bias.npy" --force --report none
  echo "fc$i: ${fan_in}x${fan_out} -> $out/fc$i.weight.npy, $out/fc$i.bias.npy"
done
