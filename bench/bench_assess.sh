#!/usr/bin/env bash
# Times `satiq assess --runstats` on an 8192x8192 UInt16 GeoTIFF (the synthetic airfield scene
# rendered at 8192 px, 0.25 m), best of 3 runs, with the time per stage.
# Usage: bench/bench_assess.sh [BUILD_DIR] [WORK_DIR]
# Environment: RUNS (default 3), BENCH_JSON (machine-readable results, default WORK_DIR/bench.json;
# read by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-$(mktemp -d)}
RUNS=${RUNS:-3}
mkdir -p "$WORK"
BENCH_JSON=${BENCH_JSON:-$WORK/bench.json}
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing bench_assess python3
SATIQ=$BUILD/pipeline/cli/satiq
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
IN=$WORK/airfield_8k.tif
[ -f "$IN" ] || "$SATIQ" -q synth airfield "$IN" --bits 16 --size 8192 --gsd-m 0.25 --sigma-px 0.6 --noise-dn 6 --seed 1 >/dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
best=""
times=()
for i in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  "$SATIQ" assess --runstats --no-edge-records "$IN" > "$WORK/assess_$i.txt"
  end=$(date +%s.%N)
  t=$(python3 -c "print(f'{$end-$start:.3f}')")
  echo "run $i: $t s wall"
  times+=("$t")
  if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; cp "$WORK/assess_$i.txt" "$WORK/assess_best.txt"; fi
done
grep -E "edges:|time|NIIRS" "$WORK/assess_best.txt"
echo "best wall time: $best s (target <= 3 s)"
python3 - "$BENCH_JSON" "$(nproc)" "$LOAD_BEFORE" "${times[@]}" <<'PY'
import json, sys
out, cores, load, *times = sys.argv[1:]
times = [float(t) for t in times]
json.dump({
    "suite": "bench_assess.sh",
    "load_average_1m_5m_15m_before": [float(x) for x in load.split()],
    "comparisons": [],
    "unpaired": [{
        "name": "assess 8192^2 UInt16 GeoTIFF (airfield scene, 0.25 m), --runstats",
        "satiq_name": "satiq assess --runstats --no-edge-records",
        "satiq_time_s": min(times), "satiq_times_s": times, "threads": int(cores),
        "statistic": f"best of {len(times)} runs, wall time"}],
}, open(out, "w"), indent=1)
PY
