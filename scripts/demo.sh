#!/usr/bin/env bash
# The main job: installs what is missing, builds, then on the bundled samples
#   1. describes every sample (satiq info),
#   2. measures what each really resolves (satiq assess: RER, MTF, noise, NIIRS, usability),
#   3. resolution against usability: the 0.25 m airfield scene as WorldView-3, Pleiades,
#      SuperDove, Malligyong-1 and Sentinel-2 would record it (satiq degrade), each measured
#      again and set beside its sensor-model prediction (satiq predict), with PNG quicklooks.
# Results go to out/demo/ (JSON, degraded GeoTIFFs, PNG); the summary goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SATIQ=build/release/pipeline/cli/satiq
OUT=out/demo
mkdir -p "$OUT"
shopt -s nullglob
samples=(samples/*.tif)
if ((${#samples[@]} == 0)); then
  echo "demo: samples/ is empty; run scripts/make_samples.sh" >&2
  exit 1
fi

echo "== 1. The samples (satiq info)"
"$SATIQ" info "${samples[@]}" | grep -E '^[^ ]|size:|gsd:|crs:'

echo
echo "== 2. What each sample really resolves (satiq assess)"
"$SATIQ" assess --format json --no-edge-records "${samples[@]}" > "$OUT/assess_samples.json"
"$SATIQ" assess "${samples[@]}" | grep -E '^[^ ]|edges:|  [xy]:|RER geometric|NIIRS|noise'

echo
echo "== 3. Resolution against usability: the airfield as other satellites would see it"
scene=samples/airfield_0p25m.tif
summary="$OUT/sensors.tsv"
printf 'sensor\tgsd_m\tpredicted_rer\tpredicted_niirs\tmeasured_rer\tmeasured_niirs\tone_object_changes_rer_by\tedges_used\n' > "$summary"
quicklook() {  # GeoTIFF -> PNG at the scene's full 2048 px, nearest neighbour (pixels stay visible)
  if command -v gdal_translate >/dev/null; then
    gdal_translate -q -of PNG -ot Byte -scale 0 2047 0 255 -outsize 1024 1024 -r near "$1" "$2" 2>/dev/null || true
  fi
}
quicklook "$scene" "$OUT/airfield_0p25m.png"
for sensor in worldview-3 pleiades superdove malligyong-1 sentinel-2; do
  "$SATIQ" -q degrade "$scene" "$OUT/airfield_$sensor.tif" --sensor "$sensor" --input-sigma-px 0.6 --seed 1 \
    --format json > "$OUT/degrade_$sensor.json"
  "$SATIQ" predict --sensor "$sensor" --format json > "$OUT/predict_$sensor.json"
  "$SATIQ" assess --format json --no-edge-records "$OUT/airfield_$sensor.tif" > "$OUT/assess_$sensor.json" || true
  quicklook "$OUT/airfield_$sensor.tif" "$OUT/airfield_$sensor.png"
  python3 - "$sensor" "$OUT" >> "$summary" <<'PY'
import json, sys
s, out = sys.argv[1], sys.argv[2]
p = json.load(open(f"{out}/predict_{s}.json"))
a = json.load(open(f"{out}/assess_{s}.json"))["results"][0]
d = json.load(open(f"{out}/degrade_{s}.json"))["results"][0]["plan"]
def find(j, *keys):
    for k in keys:
        if not isinstance(j, dict) or k not in j: return None
        j = j[k]
    return j
prer = find(p, "edge", "rer", "weighted") or find(p, "rer", "weighted")
pn = find(p, "niirs", "giqe5", "value")
mrer = find(a, "rer", "weighted")
mn = find(a, "niirs", "giqe5", "value")
used = find(a, "edges", "used")
nx, ny = find(a, "edges", "x", "count") or 0, find(a, "edges", "y", "count") or 0
f = lambda v, n=2: "n/a" if v is None else f"{v:.{n}f}"
# Fewer than 3 usable edges on an axis: the measurement rests on one or two objects.
flag = " (unreliable: <3 edges on an axis)" if used and min(nx, ny) < 3 else ""
# Largest change of the RER when the edges of any one object are left out (assess README).
obj = find(a, "rer", "robustness", "max_single_object_change")
print(f"{s}\t{d['target_gsd_m']:.2f}\t{f(prer,3)}\t{f(pn)}\t{f(mrer if used else None,3)}\t{f(mn)}\t{f(obj if used else None,3)}\t{used} (x {nx}, y {ny}){flag}")
PY
done
column -t -s $'\t' "$summary"
echo
echo "What Malligyong-1 can and cannot see (sensor model, GIQE 5):"
"$SATIQ" predict --sensor malligyong-1 | sed -n '/^Interpretability/,/^Warnings/p' | grep -v '^Warnings'
echo
echo "Quicklooks (same ground, 512 m square): $OUT/airfield_*.png; all JSON in $OUT/"
