#!/usr/bin/env python3
"""The transformers way to a fresh checkpoint, for bench/hf_bench.sh:

    AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(CONFIG_DIR)).save_pretrained(OUT)

Usage: hf_baseline.py CONFIG.json OUT_DIR [SEED]: with SEED, `torch.manual_seed(SEED)`
first (what `gen --hf-config --rng torch --seed SEED` reproduces). Prints the seconds spent in from_config and in
save_pretrained on stderr. Needs torch and transformers (not in CI).
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

from transformers import AutoConfig, AutoModelForCausalLM

config_file, out = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    import torch

    torch.manual_seed(int(sys.argv[3]))
with tempfile.TemporaryDirectory() as d:
    shutil.copy(config_file, Path(d) / "config.json")
    config = AutoConfig.from_pretrained(d)
t0 = time.perf_counter()
model = AutoModelForCausalLM.from_config(config)
t1 = time.perf_counter()
model.save_pretrained(out)
t2 = time.perf_counter()
print(f"from_config {t1 - t0:.2f} s, save_pretrained {t2 - t1:.2f} s, dtype {model.dtype}", file=sys.stderr)
