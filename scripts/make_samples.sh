#!/usr/bin/env bash
# Regenerates samples/ (synthetic GeoTIFFs + truth JSON) with the built satiq binary.
# The output is bit-identical for the same satiq version, whatever the thread count.
#
#   scripts/make_samples.sh            write into samples/
#   scripts/make_samples.sh OUT_DIR    write into OUT_DIR
#   scripts/make_samples.sh --check    regenerate into a temporary folder and compare with samples/
#
# SATIQ=path/to/satiq overrides the binary (default build/release/pipeline/cli/satiq).
set -euo pipefail
cd "$(dirname "$0")/.."
SATIQ="${SATIQ:-build/release/pipeline/cli/satiq}"
if [ ! -x "$SATIQ" ]; then
  echo "make_samples: $SATIQ not found; build it first: cmake --preset release && cmake --build --preset release --target satiq" >&2
  exit 1
fi

check=0
out=samples
if [ "${1:-}" = "--check" ]; then
  check=1
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
elif [ -n "${1:-}" ]; then
  out="$1"
fi
mkdir -p "$out"

run() { "$SATIQ" -q synth "$@" --format text; }

# Slanted edges (ISO 12233 style), 256 x 256 px at 0.5 m, noise-free unless named "noise".
run edge "$out/edge_5deg_sigma0p5_16bit.tif" --angle-deg 5 --sigma-px 0.5 --bits 16 --size 256 --gsd-m 0.5
run edge "$out/edge_8deg_sigma1p0_noise_8bit.tif" --angle-deg 8 --sigma-px 1.0 --bits 8 --size 256 --gsd-m 0.5 \
  --noise-dn 2 --seed 8
run edge "$out/edge_43deg_sigma0p7_16bit.tif" --angle-deg 43 --sigma-px 0.7 --bits 16 --size 256 --gsd-m 0.5
run edge "$out/edge_3deg_sigma0_16bit.tif" --angle-deg 3 --sigma-px 0 --bits 16 --size 256 --gsd-m 0.5
# Tri-bar resolution target: 12 elements from 8 px bars down to 0.63 px (beyond Nyquist).
run tribar "$out/tribar.tif" --sigma-px 0.5 --bits 16 --size 512,128 --gsd-m 0.5 --largest-bar-px 8 --elements 12
# Airfield scene: 2048 x 2048 px at 0.25 m (512 m square), 11-bit data in UInt16, 6 DN noise.
run airfield "$out/airfield_0p25m.tif" --bits 16 --size 2048 --gsd-m 0.25 --sigma-px 0.6 --noise-dn 6 --seed 1

if [ "$check" = 1 ]; then
  status=0
  for f in "$out"/*; do
    name="$(basename "$f")"
    if ! cmp -s "$f" "samples/$name"; then
      echo "make_samples: samples/$name differs from a fresh run" >&2
      status=1
    fi
  done
  [ "$status" = 0 ] && echo "make_samples: samples/ is bit-identical to a fresh run"
  exit "$status"
fi
