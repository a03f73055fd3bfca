#!/usr/bin/env bash
# Installs the Debian 12 packages satiq needs (only those missing; apt is not called otherwise),
# then configures and builds the release preset. Idempotent. Used by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libopencv-dev libgdal-dev gdal-bin libproj-dev libtbb-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
  libopenmpi-dev openmpi-bin  # optional MPI for `mpirun satiq batch` (CMake: SATIQ_WITH_MPI)
  chromium fonts-dejavu-core  # the report tests open report.html in headless Chromium

)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release >&2
cmake --build --preset release -j "$jobs" >&2
