#!/usr/bin/env bash
# End-to-end comparison: `satiq degrade` (PSF, area integration, noise, write) against
# `gdal_translate -r average -tr 2 2` (area average and write only) on the same 8192x8192 UInt16
# GeoTIFF, 0.5 m -> 2 m, both writing tiled DEFLATE GeoTIFFs; then the peak resident memory of
# `satiq degrade` on a 20000x20000 UInt16 GeoTIFF.
#
# Usage: bench/bench_degrade.sh [BUILD_DIR] [WORK_DIR]
# Needs gdal-bin, hyperfine and time (Debian packages, installed here when missing). Environment:
# RUNS (hyperfine runs per command, default 5), WARMUP (default 1), SKIP_20K=1 (no 20000^2 run),
# BENCH_JSON (machine-readable results, default WORK_DIR/bench.json; read by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-$(mktemp -d)}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
mkdir -p "$WORK"
BENCH_JSON=${BENCH_JSON:-$WORK/bench.json}
SATIQ=$BUILD/pipeline/cli/satiq
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing bench_degrade gdal-bin hyperfine time python3
REAL=../shared/data/real/pan1.tif
CO=(-co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=2 -co BLOCKXSIZE=256 -co BLOCKYSIZE=256)

make_input() {  # size output
  local n=$1 out=$2 side
  side=$(python3 -c "print($1*0.5)")
  if [ -f "$REAL" ]; then
    # Real WorldView-2 texture, resampled to n x n at 0.5 m.
    gdal_translate -q -outsize "$n" "$n" -r cubic -ot UInt16 -a_srs EPSG:32631 -a_ullr 600000 "$(python3 -c "print(5700000+$side)")" "$(python3 -c "print(600000+$side)")" 5700000 "${CO[@]}" -co BIGTIFF=IF_SAFER "$REAL" "$out"
  else
    "$SATIQ" -q synth airfield "$out" --bits 16 --size "$n" --gsd-m 0.5 >/dev/null
  fi
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
[ -f "$WORK/in8k.tif" ] || make_input 8192 "$WORK/in8k.tif"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -w "$WARMUP" -r "$RUNS" --export-json "$WORK/degrade_vs_gdal.json" \
  -n gdal_translate "gdal_translate -q -r average -tr 2 2 ${CO[*]} $WORK/in8k.tif $WORK/gdal_2m.tif" \
  -n satiq_degrade "$SATIQ -q degrade $WORK/in8k.tif $WORK/satiq_2m.tif --target-gsd-m 2 --sigma-px 0.5 --snr 50 --seed 1"
python3 - "$WORK/degrade_vs_gdal.json" "$BENCH_JSON" "$RUNS" "$(nproc)" "$LOAD_BEFORE" <<'PY'
import json, sys
src, out, runs, cores, load = sys.argv[1:]
res = {x["command"]: x for x in json.load(open(src))["results"]}
r = {k: v["median"] for k, v in res.items()}
print(f"median wall time: gdal_translate {r['gdal_translate']:.3f} s, satiq degrade {r['satiq_degrade']:.3f} s, "
      f"ratio satiq/gdal {r['satiq_degrade']/r['gdal_translate']:.2f} (target <= 2)")
json.dump({
    "suite": "bench_degrade.sh",
    "load_average_1m_5m_15m_before": [float(x) for x in load.split()],
    "comparisons": [{
        "name": "degrade 8192^2 UInt16 GeoTIFF, 0.5 m -> 2 m",
        "satiq_name": "satiq degrade (Gaussian PSF, area integration, noise SNR 50, tiled DEFLATE write)",
        "satiq_time_s": r["satiq_degrade"],
        "baseline_name": "gdal_translate -r average -tr 2 2 (area average and the same write only)",
        "baseline_time_s": r["gdal_translate"],
        "ratio_baseline_over_satiq": r["gdal_translate"] / r["satiq_degrade"],
        "threads": int(cores),
        "statistic": f"median of {runs} runs (hyperfine), wall time",
        "satiq_times_s": res["satiq_degrade"]["times"],
        "baseline_times_s": res["gdal_translate"]["times"],
    }],
    "unpaired": [],
}, open(out, "w"), indent=1)
PY

if [ "${SKIP_20K:-0}" != 1 ]; then
  [ -f "$WORK/in20k.tif" ] || make_input 20000 "$WORK/in20k.tif"
  /usr/bin/time -v "$SATIQ" -q degrade "$WORK/in20k.tif" "$WORK/out20k.tif" --target-gsd-m 2 --sigma-px 0.5 --snr 50 2> "$WORK/time20k.txt" >/dev/null
  awk -F: '/Maximum resident/{printf "20000x20000 UInt16 degrade: peak RSS %.0f MiB (target < 1024)\n", $2/1024} /Elapsed/{sub(/.*: /, ""); print "  wall time " $0 " (m:ss)"}' "$WORK/time20k.txt"
  python3 - "$WORK/time20k.txt" "$BENCH_JSON" "$(nproc)" <<'PY'
import json, sys
src, out, cores = sys.argv[1:]
wall = rss = None
for line in open(src):
    key, _, val = line.strip().rpartition(": ")
    if key.startswith("Maximum resident set size"):
        rss = int(val) / 1024
    elif key.startswith("Elapsed (wall clock) time"):
        wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(val.split(":"))))
doc = json.load(open(out))
doc["unpaired"].append({
    "name": "degrade 20000^2 UInt16 GeoTIFF, 0.5 m -> 2 m: peak resident memory",
    "satiq_name": "satiq degrade", "satiq_time_s": wall, "peak_rss_mib": rss, "threads": int(cores),
    "statistic": "one run, wall time (GNU time)"})
json.dump(doc, open(out, "w"), indent=1)
PY
fi
echo "work files in $WORK (machine-readable: $BENCH_JSON)"
