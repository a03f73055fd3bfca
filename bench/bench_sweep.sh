#!/usr/bin/env bash
# `satiq sweep` against the same work done one command at a time, on a 4096x4096 UInt16 GeoTIFF
# (the synthetic airfield scene, 0.25 m), 10 GSDs from 0.25 m to 10 m:
#   sweep:      satiq -q sweep IN -o DIR --gsd-m 0.25,...,10 --seed 1
#   one by one: for each GSD G, satiq -q degrade IN step_G.tif --target-gsd-m G --mtf-nyquist 0.15
#               --snr 50 --seed 1 --measure-input; satiq -q assess step_G.tif --format json;
#               satiq predict --target-gsd-m G --mtf-nyquist 0.15 --snr 50 --format json
# (the sweep's default model is this simple form; --measure-input measures the input's blur from
# its edges, which the sweep does once for all steps). The two sides alternate, REPS times each
# (default 2); the table gives median wall times, their ratio (target <= 0.8) and the peak
# resident memory (GNU time's max RSS) of the sweep and of the largest single degrade or assess.
# Wall time is measured with `date +%s.%N` around each side; every command also runs under
# /usr/bin/time, which gives each phase's time (degrade / assess / predict).
#
# Usage: bash bench/bench_sweep.sh [BUILD_DIR] [WORK_DIR]   (default build/release, out/bench/sweep)
# Needs python3 and GNU time (Debian packages `python3`, `time`; installed here when missing).
# Environment: REPS (default 2), SIZE (side of the input in pixels, default 4096),
# BENCH_JSON (machine-readable results, default WORK_DIR/bench.json; read by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-out/bench/sweep}
REPS=${REPS:-2}
SIZE=${SIZE:-4096}
BENCH_JSON=${BENCH_JSON:-$WORK/bench.json}
SATIQ=$BUILD/pipeline/cli/satiq
GSDS=(0.25 0.4 0.6 1 1.5 2 3 4 6 10)
MODEL=(--mtf-nyquist 0.15 --snr 50)
mkdir -p "$WORK"

# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing bench_sweep time python3  # GNU time for the peak RSS
# The binary may be missing or being relinked by a build: wait up to 2 minutes for it.
for _ in $(seq 12); do
  "$SATIQ" --help >/dev/null 2>&1 && break
  echo "bench_sweep: $SATIQ is not runnable yet, waiting 10 s" >&2
  sleep 10
done
"$SATIQ" --help >/dev/null 2>&1 || { echo "bench_sweep: $SATIQ is missing (cmake --build --preset release)" >&2; exit 1; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
CPU=$(lscpu | awk -F: '/^Model name/{gsub(/^ +/, "", $2); print $2; exit}')
MACHINE="$CPU, $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
DATE=$(date -u +%Y-%m-%d)
echo "machine: $MACHINE"
LOAD_BEFORE=$(loadavg)
echo "load average before: $LOAD_BEFORE"

IN=$WORK/airfield_$SIZE.tif
if [ ! -f "$IN" ]; then
  echo "making $IN ($SIZE x $SIZE UInt16, 0.25 m)"
  "$SATIQ" -q synth airfield "$IN" --bits 16 --size "$SIZE" --gsd-m 0.25 --seed 1 >/dev/null
fi

TIMES=$WORK/times.txt   # per command: side rep phase gsd wall_s maxrss_kb (GNU time)
WALLS=$WORK/walls.txt   # per side and rep: side rep wall_s (date)
: > "$TIMES"
: > "$WALLS"
timed() {  # side rep phase gsd cmd...: runs cmd (stdout to /dev/null) under GNU time, appends to $TIMES
  local tag="$1 $2 $3 $4"
  shift 4
  /usr/bin/time -f "$tag %e %M" -a -o "$TIMES" "$@" >/dev/null
}
GSD_LIST=$(IFS=,; echo "${GSDS[*]}")

run_sweep() {  # rep
  rm -rf "$WORK/sweep_out"
  local t0 t1
  t0=$(now)
  timed sweep "$1" sweep all "$SATIQ" -q sweep "$IN" -o "$WORK/sweep_out" --gsd-m "$GSD_LIST" --seed 1
  t1=$(now)
  echo "sweep $1 $(python3 -c "print(f'{$t1 - $t0:.3f}')")" >> "$WALLS"
  cp "$WORK/sweep_out/results.json" "$WORK/sweep_results_$1.json"
  echo "  sweep run $1: $(tail -1 "$WALLS" | cut -d' ' -f3) s (load $(loadavg))"
}

run_one_by_one() {  # rep
  rm -rf "$WORK/steps"
  mkdir -p "$WORK/steps"
  local t0 t1 g
  t0=$(now)
  for g in "${GSDS[@]}"; do
    timed single "$1" degrade "$g" "$SATIQ" -q degrade "$IN" "$WORK/steps/step_$g.tif" --target-gsd-m "$g" "${MODEL[@]}" --seed 1 --measure-input
    timed single "$1" assess "$g" "$SATIQ" -q assess "$WORK/steps/step_$g.tif" --format json
    timed single "$1" predict "$g" "$SATIQ" predict --target-gsd-m "$g" "${MODEL[@]}" --format json
  done
  t1=$(now)
  echo "single $1 $(python3 -c "print(f'{$t1 - $t0:.3f}')")" >> "$WALLS"
  echo "  one-by-one run $1: $(tail -1 "$WALLS" | cut -d' ' -f3) s (load $(loadavg))"
}

for rep in $(seq "$REPS"); do
  run_sweep "$rep"
  run_one_by_one "$rep"
done
LOAD_AFTER=$(loadavg)
echo "load average after: $LOAD_AFTER"

python3 - "$TIMES" "$WALLS" "$WORK" "$MACHINE" "$LOAD_BEFORE" "$LOAD_AFTER" "$DATE" "$REPS" "$SIZE" "$BENCH_JSON" "$(nproc)" <<'PY' | tee "$WORK/summary.md"
import json, statistics, sys
from collections import defaultdict
times, walls, work, machine, load0, load1, date, reps, size, out, cores = sys.argv[1:]
wall = defaultdict(list)
for line in open(walls):
    side, rep, s = line.split()
    wall[side].append(float(s))
phase = defaultdict(lambda: defaultdict(float))   # phase -> rep -> seconds (GNU time, summed)
rss = defaultdict(int)                            # phase -> max RSS kB over all runs
for line in open(times):
    f = line.split()
    if len(f) != 6:          # GNU time prints "Command exited with non-zero status" on failure
        continue
    side, rep, ph, gsd, s, kb = f
    phase[ph][rep] += float(s)
    rss[ph] = max(rss[ph], int(kb))
med = {k: statistics.median(v) for k, v in wall.items()}
ph = {k: statistics.median(v.values()) for k, v in phase.items()}
sweep, single = med["sweep"], med["single"]
single_rss = max(rss["degrade"], rss["assess"])
which = "degrade" if rss["degrade"] >= rss["assess"] else "assess"
steps = []
for rep in range(1, int(reps) + 1):
    r = json.load(open(f"{work}/sweep_results_{rep}.json"))
    steps.append((r["seconds"], sum(s["seconds"] for s in r["steps"]), len(r["steps"])))
internal = statistics.median(s[0] for s in steps)
in_steps = statistics.median(s[1] for s in steps)
print()
print(f"{date}, {machine}; load average {load0} before, {load1} after; "
      f"{size} x {size} UInt16, 10 GSDs 0.25-10 m, median of {reps} alternating runs, wall time")
print()
print("| sweep | one by one | ratio sweep / one by one | sweep peak RSS | largest single-command peak RSS |")
print("|---|---|---|---|---|")
print(f"| {sweep:.2f} s | {single:.2f} s | **{sweep / single:.2f}** (target <= 0.8: "
      f"{'met' if sweep / single <= 0.8 else 'NOT met'}) | {rss['sweep'] / 1024:.0f} MiB | "
      f"{single_rss / 1024:.0f} MiB ({which}) |")
print()
print(f"one by one, by phase (GNU time, median of the per-run sums): degrade --measure-input "
      f"{ph['degrade']:.2f} s, assess {ph['assess']:.2f} s, predict {ph['predict']:.2f} s; "
      f"peak RSS degrade {rss['degrade'] / 1024:.0f} MiB, assess {rss['assess'] / 1024:.0f} MiB")
print(f"sweep, from its results.json: {internal:.2f} s in all, {in_steps:.2f} s in the {steps[0][2]} steps, "
      f"{internal - in_steps:.2f} s for the read, the input's assessment and blur, chips and report")
json.dump({
    "suite": "bench_sweep.sh",
    "load_average_1m_5m_15m_before": [float(x) for x in load0.split()],
    "load_average_1m_5m_15m_after": [float(x) for x in load1.split()],
    "comparisons": [{
        "name": f"sweep {size}^2 UInt16, 10 GSDs 0.25-10 m",
        "satiq_name": "satiq sweep (one command)",
        "satiq_time_s": sweep,
        "baseline_name": "satiq degrade --measure-input, assess, predict per GSD (one command at a time)",
        "baseline_time_s": single,
        "ratio_baseline_over_satiq": single / sweep,
        "threads": int(cores),
        "statistic": (f"median of {reps} alternating runs" if int(reps) > 1 else "one run each") + ", wall time",
        "satiq_peak_rss_mib": rss["sweep"] / 1024,
        "baseline_peak_rss_mib": single_rss / 1024,
    }],
    "unpaired": [],
}, open(out, "w"), indent=1)
PY
echo "work files in $WORK (summary.md, times.txt, walls.txt; machine-readable: $BENCH_JSON)"
