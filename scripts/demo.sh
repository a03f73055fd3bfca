#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the bundled samples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SATIQ=build/release/pipeline/cli/satiq
shopt -s nullglob
samples=(samples/*.tif)
if ((${#samples[@]} == 0)); then
  echo "demo: samples/ is empty; run scripts/make_samples.sh" >&2
  exit 1
fi
"$SATIQ" info "${samples[@]}"
