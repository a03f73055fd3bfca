#!/usr/bin/env bash
# End-to-end comparison: `satiq degrade` (PSF, area integration, noise, write) against
# `gdal_translate -r average -tr 2 2` (area average and write only) on the same 8192x8192 UInt16
# GeoTIFF, 0.5 m -> 2 m, both writing tiled DEFLATE GeoTIFFs; then the peak resident memory of
# `satiq degrade` on a 20000x20000 UInt16 GeoTIFF.
#
# Usage: bench/bench_degrade.sh [BUILD_DIR] [WORK_DIR]   (needs gdal-bin, hyperfine, time)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-$(mktemp -d)}
mkdir -p "$WORK"
SATIQ=$BUILD/pipeline/cli/satiq
for tool in gdal_translate hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench_degrade: $tool is missing (apt-get install gdal-bin hyperfine time)" >&2; exit 1; }
done
REAL=../shared/data/real/pan1.tif
CO=(-co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=2 -co BLOCKXSIZE=256 -co BLOCKYSIZE=256)

make_input() {  # size output
  local n=$1 out=$2 side
  side=$(python3 -c "print($1*0.5)")
  if [ -f "$REAL" ]; then
    # Real WorldView-2 texture, resampled to n x n at 0.5 m.
    gdal_translate -q -outsize "$n" "$n" -r cubic -ot UInt16 -a_srs EPSG:32631 -a_ullr 600000 "$(python3 -c "print(5700000+$side)")" "$(python3 -c "print(600000+$side)")" 5700000 "${CO[@]}" -co BIGTIFF=IF_SAFER "$REAL" "$out"
  else
    "$SATIQ" synth airfield "$out" --width-px "$n" --height-px "$n" --gsd-m 0.5 >/dev/null
  fi
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
[ -f "$WORK/in8k.tif" ] || make_input 8192 "$WORK/in8k.tif"
hyperfine -w 1 -r 5 --export-json "$WORK/degrade_vs_gdal.json" \
  -n gdal_translate "gdal_translate -q -r average -tr 2 2 ${CO[*]} $WORK/in8k.tif $WORK/gdal_2m.tif" \
  -n satiq_degrade "$SATIQ -q degrade $WORK/in8k.tif $WORK/satiq_2m.tif --target-gsd-m 2 --sigma-px 0.5 --snr 50 --seed 1"
python3 - "$WORK/degrade_vs_gdal.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"median wall time: gdal_translate {r['gdal_translate']:.3f} s, satiq degrade {r['satiq_degrade']:.3f} s, "
      f"ratio satiq/gdal {r['satiq_degrade']/r['gdal_translate']:.2f} (target <= 2)")
PY

if [ "${SKIP_20K:-0}" != 1 ]; then
  [ -f "$WORK/in20k.tif" ] || make_input 20000 "$WORK/in20k.tif"
  /usr/bin/time -v "$SATIQ" -q degrade "$WORK/in20k.tif" "$WORK/out20k.tif" --target-gsd-m 2 --sigma-px 0.5 --snr 50 2> "$WORK/time20k.txt" >/dev/null
  awk -F: '/Maximum resident/{printf "20000x20000 UInt16 degrade: peak RSS %.0f MiB (target < 1024)\n", $2/1024} /Elapsed/{sub(/.*: /, ""); print "  wall time " $0 " (m:ss)"}' "$WORK/time20k.txt"
fi
echo "work files in $WORK"
