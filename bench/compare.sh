#!/usr/bin/env bash
# End-to-end benchmark of `weightinit gen` against the NumPy and PyTorch recipes and dd
# (issue 3). Prints a markdown report on stdout; progress goes to stderr.
#
#   bench/compare.sh [--quick] [--big] [--runs N] [--python PATH] [--threads N]
#                    [--only CASE,CASE] [--bin PATH] [--no-prewarm]
#
#   --quick         small sizes (4096x4096 instead of 16384x16384, ...): a smoke test
#   --big           add the 4 GiB he-normal case (32768x32768; 8192x8192 with --quick),
#                   run once, for weightinit's peak memory; needs that much free disk
#   --runs N        timed runs per tool and case (default 5)
#   --python PATH   interpreter for the baselines (default: .venv/bin/python, else python3)
#   --threads N     passed to weightinit as --threads N (default: weightinit's own, all cores)
#   --only LIST     run only these cases: he-normal, xavier-uniform, truncated-normal,
#                   orthogonal, small, json, numpy-mode, torch-mode, model, llama, big
#   --bin PATH      benchmark this weightinit binary instead of building target/release
#   --no-prewarm    skip the untimed memory pre-warm before each run (see below)
#
# Every run writes a new file into a scratch directory on the repo's disk (target/, or
# $BENCH_TMPDIR) that is deleted right after the run and removed at exit. Before each
# timed run, outside the timing, `sync` flushes the previous run's writeback so that it
# does not land in the next one (without it the ratios swing by 2x here); the run itself
# is timed, like dd and the baselines, until its bytes are in the page cache.
# Each tool's best and median over the runs are reported, and the issue-13 targets are
# checked best against best (the least disturbed runs) with the medians beside them.
# Wall time is taken around the process (bash $EPOCHREALTIME, microseconds), so Python
# start-up and imports count; peak RSS comes from `/usr/bin/time -f %M`. Runs are
# interleaved (run 1 of every tool, then run 2, ...) so that drifting background load
# spreads over all tools instead of hitting one.
#
# Pre-warm: on a VM that hands idle guest memory back to the host (virtio-balloon free
# page reporting, DAMON reclaim; this project's machines do), the first touch of that
# memory costs about 1 s per GiB: a 1 GiB dd took 0.3 s right after other writes and
# 1.3-3.3 s after 5 idle seconds. So before every timed run an untimed dd writes and
# deletes twice the case's data size (at most 2 GiB), and every tool starts with the
# same warm memory. Page-cache writes stay noisy here even so (np.save of 1 GiB took
# 0.25-2.8 s in back-to-back tries), hence the interleaving and the per-run column.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/bench"

RUNS=5 QUICK=0 BIG=0 PY="" THREADS="" ONLY="" BIN="" PREWARM=1
usage() { sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "compare.sh: $*" >&2; exit 2; }
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --big) BIG=1 ;;
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --python) PY=${2:?--python needs a path}; shift ;;
        --threads) THREADS=${2:?--threads needs a number}; shift ;;
        --only) ONLY=${2:?--only needs a list}; shift ;;
        --bin) BIN=${2:?--bin needs a path}; shift ;;
        --no-prewarm) PREWARM=0 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
[[ -z $THREADS || $THREADS =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"

log() { echo "[compare] $*" >&2; }

# ---------------------------------------------------------------- cases
# id | weightinit scheme | shape | format
if ((QUICK)); then
    BIG_SHAPE=8192x8192 ELEM_SHAPE=4096x4096 ORTHO_SHAPE=1024x1024 JSON_SHAPE=256x256
    NUMPY_MODE_SHAPE=10000000
    MODEL_LAYERS=2048x5
    LLAMA_SPEC=$BENCH/llama7b-layer-quick.toml
else
    BIG_SHAPE=32768x32768 ELEM_SHAPE=16384x16384 ORTHO_SHAPE=4096x4096 JSON_SHAPE=1024x1024
    NUMPY_MODE_SHAPE=100000000
    MODEL_LAYERS=8192x5
    LLAMA_SPEC=$BENCH/llama7b-layer.toml
fi
CASES=(
    "he-normal|he-normal|$ELEM_SHAPE|npy"
    "xavier-uniform|xavier-uniform|$ELEM_SHAPE|npy"
    "truncated-normal|truncated-normal|$ELEM_SHAPE|npy"
    "orthogonal|orthogonal|$ORTHO_SHAPE|npy"
    "small|he-normal|784x128|npy"
    "json|he-normal|$JSON_SHAPE|json"
    # issue 4: --rng numpy against NumPy itself, 100M float32 standard normals
    "numpy-mode|normal|$NUMPY_MODE_SHAPE|npy"
    # issue 4: --rng torch against PyTorch's normal_, 100M float32 normals
    "torch-mode|normal|$NUMPY_MODE_SHAPE|npy"
    # issue 5: a model of several tensors as one .safetensors (4 matrices + biases, the
    # same bytes as the he-normal case), against the single-tensor .npy rate
    "model|he-normal|$MODEL_LAYERS|safetensors"
    # issue 13: one Llama-7B layer set and its embedding in bf16 (bench/llama7b-layer.toml)
    "llama|spec|$LLAMA_SPEC|safetensors"
)
((BIG)) && CASES+=("big|he-normal|$BIG_SHAPE|npy")
if [[ -n $ONLY ]]; then
    keep=()
    IFS=, read -ra wanted <<<"$ONLY"
    for w in "${wanted[@]}"; do
        found=0
        for c in "${CASES[@]}"; do
            if [[ ${c%%|*} == "$w" ]]; then keep+=("$c"); found=1; fi
        done
        ((found)) || die "--only: unknown case '$w' (or 'big' without --big)"
    done
    CASES=("${keep[@]}")
fi

elements() { local IFS=x n=1 d; for d in $1; do n=$((n * d)); done; echo "$n"; }
# Elements of a case: a shape's product, or for the model case (--layers WxK, K equal
# widths) the K-1 square matrices and their biases.
case_elements() {
    if [[ $1 == llama ]]; then
        # bf16: half the bytes of f32, so count half the elements
        grep -o 'shape = \[[0-9, ]*\]' "$2" | tr -dc '0-9,\n' |
            awk -F, '{ n = 1; for (i = 1; i <= NF; i++) n *= $i; t += n } END { print int(t / 2) }'
    elif [[ $1 == model ]]; then
        local w=${2%x*} k=${2#*x}
        echo $(((k - 1) * (w * w + w)))
    else
        elements "$2"
    fi
}

# ---------------------------------------------------------------- tools
if [[ -z $BIN ]]; then
    log "building the release binary (cargo build --release)"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
    BIN="$REPO/target/release/weightinit"
fi
[[ -x $BIN ]] || die "no weightinit binary at '$BIN'"

SCRATCH_PARENT=${BENCH_TMPDIR:-$REPO/target}
mkdir -p "$SCRATCH_PARENT"
WORK=$(mktemp -d "$SCRATCH_PARENT/bench-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
# A private copy, so a concurrent `cargo build` cannot swap the binary mid-run.
cp "$BIN" "$WORK/weightinit"
WI="$WORK/weightinit"

if [[ -z $PY ]]; then
    if [[ -x $REPO/.venv/bin/python ]]; then PY="$REPO/.venv/bin/python"; else PY=python3; fi
fi
# The machine's environment may set these for old OpenBLAS builds; they slow a current
# NumPy/PyTorch, so the baselines run without them (this script's children only).
PYENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

NOTES=()   # lines printed under "Skipped / notes"
note() { NOTES+=("$1"); log "$1"; }

HAVE_NUMPY=0 HAVE_TORCH=0 HAVE_KERAS=0
INFO=()
if ! command -v "$PY" >/dev/null 2>&1; then
    note "skipped numpy, torch and keras baselines: no Python interpreter '$PY'"
else
    if out=$("${PYENV[@]}" "$PY" "$BENCH/baseline_numpy.py" --info 2>/dev/null); then
        HAVE_NUMPY=1
        mapfile -t lines <<<"$out"
        INFO+=("${lines[@]}")
    else
        note "skipped numpy baseline: 'import numpy' fails with $PY"
    fi
    if ((!HAVE_NUMPY)); then
        note "skipped torch baseline: it needs numpy (np.save) as well as torch"
    elif out=$("${PYENV[@]}" "$PY" "$BENCH/baseline_torch.py" --info 2>/dev/null); then
        HAVE_TORCH=1
        INFO+=("$(tail -n1 <<<"$out")")
    else
        note "skipped torch baseline: 'import torch' fails with $PY"
    fi
    if ((HAVE_NUMPY)) && out=$("${PYENV[@]}" "$PY" "$BENCH/baseline_keras.py" --info 2>/dev/null); then
        HAVE_KERAS=1
        INFO+=("$(tail -n1 <<<"$out")")
    else
        note "skipped keras baseline: 'import keras' fails with $PY (not installed)"
    fi
fi

# Peak memory: GNU time, else a Python wrapper around getrusage, else none.
TIME_KIND=none
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
    TIME_KIND=gnu
elif command -v python3 >/dev/null 2>&1; then
    TIME_KIND=python
    note "/usr/bin/time not found: peak memory from a python3 getrusage wrapper (adds its ~20 ms start-up to every wall time)"
else
    note "skipped peak memory: neither /usr/bin/time nor python3 is available"
fi

# ---------------------------------------------------------------- measuring
RAW="$WORK/raw.tsv"      # case tool run wall_s rss_kib bytes status
PHASES="$WORK/phases.tsv" # case tool run import draw save
: >"$RAW"
: >"$PHASES"

# run_timed CASE TOOL RUN OUTFILE CMD...: one timed run; the output file is deleted after.
run_timed() {
    local case=$1 tool=$2 run=$3 out=$4
    shift 4
    local mem="$WORK/mem" errlog="$WORK/stderr" t0 t1 status=ok rss=- bytes=-
    rm -f "$out" "$mem" "$WORK/timings"
    if ((PREWARM)); then
        dd if=/dev/zero of="$WORK/prewarm" bs=4M count="$PREWARM_BYTES" iflag=count_bytes status=none
        rm -f "$WORK/prewarm"
    fi
    sync
    t0=$EPOCHREALTIME
    case $TIME_KIND in
        gnu) /usr/bin/time -f '%M' -o "$mem" "$@" >/dev/null 2>"$errlog" || status=failed ;;
        python)
            python3 -c 'import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)' "$mem" "$@" >/dev/null 2>"$errlog" || status=failed ;;
        none) "$@" >/dev/null 2>"$errlog" || status=failed ;;
    esac
    t1=$EPOCHREALTIME
    [[ -s $mem ]] && rss=$(tail -n1 "$mem")
    [[ -f $out ]] && bytes=$(stat -c %s "$out")
    rm -f "$out"
    if [[ $status != ok ]]; then
        log "FAILED: $tool on $case (run $run): $(tail -n3 "$errlog" | tr '\n' ' ')"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$tool" "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" "$rss" "$bytes" "$status" >>"$RAW"
    if [[ -s $WORK/timings ]]; then
        printf '%s\t%s\t%s\t%s\n' "$case" "$tool" "$run" "$(tr ' ' '\t' <"$WORK/timings")" >>"$PHASES"
    fi
}

# Free disk: the largest single output plus a pre-warm file plus 1 GiB of margin.
largest=0
for c in "${CASES[@]}"; do
    IFS='|' read -r cid _ shape _ <<<"$c"
    b=$(($(case_elements "$cid" "$shape") * 4 + PREWARM * (2 << 30)))
    ((b > largest)) && largest=$b
done
avail=$(df -B1 --output=avail "$WORK" | tail -n1 | tr -d ' ')
if ((avail < largest + (1 << 30))); then
    die "not enough free disk in $WORK: $((avail >> 20)) MiB free, need $(((largest >> 20) + 1024)) MiB"
fi
fstype=$(stat -f -c %T "$WORK")
[[ $fstype == tmpfs ]] && note "scratch directory $WORK is on tmpfs: writes never reach a disk, numbers are not comparable with the issue's"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
for c in "${CASES[@]}"; do
    IFS='|' read -r id scheme shape format <<<"$c"
    runs=$RUNS
    [[ $id == big ]] && runs=1
    out="$WORK/out.$format"
    # Twice the raw data size, at least 64 MiB, at most 2 GiB (more would start the
    # kernel's background writeback: dirty_background_ratio is 10% of RAM) and at most
    # half the memory now available.
    PREWARM_BYTES=$(($(case_elements "$id" "$shape") * 8))
    ((PREWARM_BYTES < 64 << 20)) && PREWARM_BYTES=$((64 << 20))
    ((PREWARM_BYTES > 2 << 30)) && PREWARM_BYTES=$((2 << 30))
    mem_avail=$(($(awk '/MemAvailable/ { print $2 }' /proc/meminfo) * 1024))
    ((PREWARM_BYTES > mem_avail / 2)) && PREWARM_BYTES=$((mem_avail / 2))
    wi_cmd=("$WI" gen --scheme "$scheme" --shape "$shape" -o "$out" --force --report none --seed 1)
    [[ $id == model ]] && wi_cmd=("$WI" gen --layers "$shape" -o "$out" --force --report none --seed 1)
    [[ $id == llama ]] && wi_cmd=("$WI" gen --spec "$shape" -o "$out" --force --report none --seed 1)
    [[ -n $THREADS ]] && wi_cmd+=(--threads "$THREADS")
    [[ $id == numpy-mode ]] && wi_cmd+=(--rng numpy)
    [[ $id == torch-mode ]] && wi_cmd+=(--rng torch)
    pycase=$id
    [[ $id == small || $id == big ]] && pycase=$scheme
    log "case $id ($scheme $shape, $format): $runs run(s) per tool"
    for ((r = 1; r <= runs; r++)); do
        run_timed "$id" weightinit "$r" "$out" "${wi_cmd[@]}"
        # dd writes as many bytes as weightinit's file has (its first successful run),
        # or the raw data size if weightinit failed.
        dd_bytes=$(awk -F'\t' -v c="$id" '$1 == c && $2 == "weightinit" && $6 != "-" { print $6; exit }' "$RAW")
        [[ -z $dd_bytes ]] && dd_bytes=$(($(case_elements "$id" "$shape") * 4))
        run_timed "$id" dd "$r" "$WORK/dd.bin" \
            dd if=/dev/zero of="$WORK/dd.bin" bs=4M count="$dd_bytes" iflag=count_bytes status=none
        run_timed "$id" dd+fsync "$r" "$WORK/dd.bin" \
            dd if=/dev/zero of="$WORK/dd.bin" bs=4M count="$dd_bytes" iflag=count_bytes conv=fsync status=none
        [[ $id == big || $id == llama ]] && continue # weightinit against dd only
        if ((HAVE_NUMPY)) && [[ $id != torch-mode && $id != model ]]; then
            run_timed "$id" numpy "$r" "$out" "${PYENV[@]}" "$PY" "$BENCH/baseline_numpy.py" \
                "$pycase" "$shape" "$out" --timings "$WORK/timings"
        fi
        [[ $id == json ]] && continue # the issue's JSON baseline is Python's json.dump
        [[ $id == numpy-mode ]] && continue # NumPy's own draws are the baseline
        [[ $id == model ]] && continue # compared with weightinit's own .npy rate
        if ((HAVE_TORCH)); then
            run_timed "$id" torch "$r" "$out" "${PYENV[@]}" "$PY" "$BENCH/baseline_torch.py" \
                "$pycase" "$shape" "$out" --timings "$WORK/timings"
        fi
        if ((HAVE_KERAS)); then
            run_timed "$id" keras "$r" "$out" "${PYENV[@]}" "$PY" "$BENCH/baseline_keras.py" \
                "$pycase" "$shape" "$out" --timings "$WORK/timings"
        fi
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# field CASE TOOL COLUMN: that column of the successful runs, one per line
field() { awk -F'\t' -v c="$1" -v t="$2" -v k="$3" '$1 == c && $2 == t && $7 == "ok" { print $k }' "$RAW"; }
med() { field "$1" "$2" 4 | median; }
best() { field "$1" "$2" 4 | sort -g | head -n1; }
fmt_s() { awk -v x="$1" 'BEGIN { if (x == "-") print "–"; else if (x < 0.1) printf "%.4f", x; else printf "%.2f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "–"; else printf "%.2f", a / b }'; }

describe() {
    case $1 in
        he-normal | xavier-uniform | truncated-normal | orthogonal) echo "$1 $2" ;;
        small) echo "small: he-normal $2" ;;
        json) echo "json: he-normal $2" ;;
        numpy-mode) echo "numpy-mode: --rng numpy normal $2 (f32)" ;;
        torch-mode) echo "torch-mode: --rng torch normal $2 (f32)" ;;
        model) echo "model: --layers $2 as .safetensors" ;;
        llama) echo "llama: $(basename "$2") (bf16 .safetensors)" ;;
        big) echo "big: he-normal $2 (peak memory)" ;;
    esac
}

echo "## weightinit vs NumPy, PyTorch and dd ($( ((QUICK)) && echo "quick sizes" || echo "full sizes"))"
echo
echo "$START, \`bench/compare.sh$( ((QUICK)) && printf ' --quick')$( ((BIG)) && printf ' --big') --runs $RUNS$([[ -n $THREADS ]] && printf ' --threads %s' "$THREADS")\`"
echo
echo "- CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1), nproc $(nproc), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "- scratch: $WORK ($fstype, $(df -h --output=source "$WORK" | tail -n1 | tr -d ' '))"
echo "- load average before: $LOAD_BEFORE, after: $LOAD_AFTER (on 2 cores anything above ~0.3 means other work competed with the benchmark)"
echo "- $(rustc --version 2>/dev/null || echo 'rustc: not found'); weightinit $("$WI" --version 2>/dev/null | awk '{ print $NF }') at $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')$([[ -n $THREADS ]] && printf ', --threads %s' "$THREADS" || printf ', default threads (all %s cores)' "$(nproc)")"
for line in "${INFO[@]}"; do echo "- $line"; done
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if [[ -n ${!v+x} ]]; then echo "- $v=${!v} is set here; unset for the NumPy/PyTorch runs"; fi
done
echo
echo "| tool | case | best s | median s | vs dd, best (median) | ratio vs numpy (t_numpy/t) | peak MiB | runs (s) |"
echo "|---|---|---|---|---|---|---|---|"
TOOLS=(weightinit numpy torch keras dd dd+fsync)
for c in "${CASES[@]}"; do
    IFS='|' read -r id _ shape _ <<<"$c"
    t_dd=$(med "$id" dd)
    t_np=$(med "$id" numpy)
    for tool in "${TOOLS[@]}"; do
        n_all=$(awk -F'\t' -v c="$id" -v t="$tool" '$1 == c && $2 == t' "$RAW" | wc -l)
        ((n_all)) || continue
        t=$(med "$id" "$tool")
        rss=$(field "$id" "$tool" 5 | awk '$1 != "-"' | sort -g | tail -n1)
        peak=$([[ -n $rss ]] && awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }' || echo –)
        runs_list=$(awk -F'\t' -v c="$id" -v t="$tool" '$1 == c && $2 == t { printf "%s%s", sep, ($7 == "ok" ? sprintf("%.3f", $4) : "failed"); sep = " " }' "$RAW")
        tool_label=$tool
        [[ $id == json && $tool == numpy ]] && tool_label="numpy + json.dump"
        tb=$(best "$id" "$tool")
        echo "| $tool_label | $(describe "$id" "$shape") | $(fmt_s "$tb") | $(fmt_s "$t") | $(ratio "$tb" "$(best "$id" dd)") ($(ratio "$t" "$t_dd")) | $(ratio "$t_np" "$t") | $peak | $runs_list |"
    done
done
echo
echo "Ratios: t/t_dd above 1 is slower than dd (best against best, medians in parentheses); t_numpy/t above 1 is faster than NumPy."
echo "Peak MiB is the largest max-RSS over the runs. Times are whole processes (start-up included)."
if ((PREWARM)); then
    echo "Before every timed run an untimed dd wrote and deleted twice the case's data size, at most 2 GiB (memory pre-warm;"
    echo "see the header of bench/compare.sh: this VM returns idle memory to the host, and touching it again is slow)."
else
    echo "No memory pre-warm (--no-prewarm): times include re-faulting memory the VM handed back to the host."
fi

# Inside the Python processes: where the baselines spend their time.
if [[ -s $PHASES ]]; then
    echo
    echo "Inside the baselines (median s, measured in-process): import | draw | save"
    echo
    echo "| tool | case | import | draw | save |"
    echo "|---|---|---|---|---|"
    for c in "${CASES[@]}"; do
        IFS='|' read -r id _ shape _ <<<"$c"
        for tool in numpy torch keras; do
            rows=$(awk -F'\t' -v c="$id" -v t="$tool" '$1 == c && $2 == t' "$PHASES")
            [[ -n $rows ]] || continue
            cols=()
            for k in 4 5 6; do cols+=("$(fmt_s "$(cut -f"$k" <<<"$rows" | median)")"); done
            echo "| $tool | $(describe "$id" "$shape") | ${cols[0]} | ${cols[1]} | ${cols[2]} |"
        done
    done
fi

verdict() { awk -v x="$1" -v op="$2" -v lim="$3" 'BEGIN {
    if (x == "–" || x == "-" || x == "") { print "n/a"; exit }
    ok = (op == "<=") ? (x + 0 <= lim + 0) : (x + 0 >= lim + 0)
    print ok ? "met" : "NOT met" }'; }
has_case() { local c; for c in "${CASES[@]}"; do [[ ${c%%|*} == "$1" ]] && return 0; done; return 1; }
peak_mib() { field "$1" "$2" 5 | awk '$1 != "-"' | sort -g | tail -n1 | awk '{ printf "%.0f", $1 / 1024 }'; }
# The targets of issue 13 (native stream v2), best of the runs against dd's best.
echo
echo "Targets of issue 13 (best-of-$RUNS against dd's best-of-$RUNS; medians in parentheses$( ((QUICK)) && echo '; --quick sizes, indicative only')):"
echo
for spec in he-normal:1.3 truncated-normal:1.4 xavier-uniform:1.2 llama:1.5; do
    id=${spec%%:*} lim=${spec#*:}
    has_case "$id" || continue
    rb=$(ratio "$(best "$id" weightinit)" "$(best "$id" dd)")
    rm_=$(ratio "$(med "$id" weightinit)" "$(med "$id" dd)")
    echo "- $id: t/t_dd = $rb ($rm_) (≤ $lim: $(verdict "$rb" "<=" "$lim")); peak $(peak_mib "$id" weightinit) MiB (≤ 64: $(verdict "$(peak_mib "$id" weightinit)" "<=" 64))"
done

# The targets of issue 3, checked against this run's medians.
echo
echo "Targets of issue 3 (from this run's medians$( ((QUICK)) && echo '; --quick sizes, indicative only')):"
echo
for id in he-normal xavier-uniform truncated-normal; do
    has_case "$id" || continue
    t=$(med "$id" weightinit)
    r_dd=$(ratio "$t" "$(med "$id" dd)")
    r_np=$(ratio "$(med "$id" numpy)" "$t")
    pk=$(peak_mib "$id" weightinit)
    echo "- $id: t/t_dd = $r_dd (≤ 1.5: $(verdict "$r_dd" "<=" 1.5)); t_numpy/t = $r_np (≥ 8: $(verdict "$r_np" ">=" 8)); peak ${pk:-–} MiB (< 64: $(verdict "${pk:-–}" "<=" 63.999))"
done
if has_case big; then
    pk=$(peak_mib big weightinit)
    echo "- big: peak ${pk:-–} MiB (< 64: $(verdict "${pk:-–}" "<=" 63.999))"
fi
if has_case orthogonal; then
    t=$(med orthogonal weightinit)
    r_t=$(ratio "$(med orthogonal torch)" "$t")
    r_np=$(ratio "$(med orthogonal numpy)" "$t")
    echo "- orthogonal: t_torch/t = $r_t (≥ 1: $(verdict "$r_t" ">=" 1)); t_numpy/t = $r_np (≥ 1: $(verdict "$r_np" ">=" 1))"
fi
if has_case small; then
    t=$(med small weightinit)
    echo "- small: $(fmt_s "$t") s (a few ms, taken as ≤ 0.010 s: $(verdict "$t" "<=" 0.010))"
fi
if has_case json; then
    r=$(ratio "$(med json numpy)" "$(med json weightinit)")
    echo "- json: t_python/t = $r (≥ 5: $(verdict "$r" ">=" 5))"
fi
if has_case model; then
    t=$(med model weightinit)
    r=$(ratio "$t" "$(med he-normal weightinit)")
    echo "- model (issue 5): $(fmt_s "$t") s, t/t_he-normal-npy = $r (≤ 1.5: $(verdict "$r" "<=" 1.5)); peak $(peak_mib model weightinit) MiB"
fi
if has_case torch-mode; then
    r=$(ratio "$(med torch-mode torch)" "$(med torch-mode weightinit)")
    echo "- torch-mode (issue 4): t_torch/t = $r (≥ 1: $(verdict "$r" ">=" 1)), the same values bit for bit (whole processes; PyTorch's own draw time is in the table above)"
fi
if has_case numpy-mode; then
    r=$(ratio "$(med numpy-mode numpy)" "$(med numpy-mode weightinit)")
    echo "- numpy-mode (issue 4): t_numpy/t = $r (≥ 2: $(verdict "$r" ">=" 2)), the same values bit for bit"
fi

echo
echo "Recipes: weightinit \`gen --scheme S --shape R×C -o FILE --force --report none --seed 1\`;"
echo "numpy: bench/baseline_numpy.py (default_rng standard_normal/random in float32, scaled; truncated normal by"
echo "redrawing values outside ±2; orthogonal by float64 QR with sign fix, saved as float32; json: json.dump(w.tolist()));"
echo "torch: bench/baseline_torch.py (torch.nn.init kaiming_normal_/xavier_uniform_/trunc_normal_/orthogonal_ on"
echo "torch.empty, np.save(t.numpy())); dd: \`dd if=/dev/zero bs=4M\` of the same byte count as weightinit's file;"
echo "dd+fsync: the same with conv=fsync, the floor for \`weightinit gen --fsync\`. By default weightinit, like dd,"
echo "np.save and torch.save, stops when its bytes are in the page cache, so plain dd is its like-for-like floor."
if ((${#NOTES[@]})); then
    echo
    echo "Skipped / notes:"
    for n in "${NOTES[@]}"; do echo "- $n"; done
fi
if grep -q $'\tfailed$' "$RAW"; then
    echo
    echo "Failed runs (excluded from the medians):"
    awk -F'\t' '$7 == "failed" { printf "- %s on %s, run %s\n", $2, $1, $3 }' "$RAW"
fi
