#!/usr/bin/env bash
# Installs the Debian 12 packages satiq needs (only those missing; apt is not called otherwise),
# then configures and builds the release preset. Idempotent. Used by demo.sh, test.sh and bench.sh.
#
#   bash scripts/setup.sh [EXTRA_PACKAGE...]
#
# Extra package names are installed with the rest when missing (bench.sh: hyperfine time).
# The install itself is install_missing in scripts/lib/apt.sh, shared with fuzz.sh and bench/*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libopencv-dev libgdal-dev gdal-bin libproj-dev libtbb-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
  libopenmpi-dev openmpi-bin  # optional MPI for `mpirun satiq batch` (CMake: SATIQ_WITH_MPI)
  chromium fonts-dejavu-core  # the report tests open report.html in headless Chromium
  clang-format clang-tidy     # Style.ClangFormat and Style.ClangTidy (scripts/check_format.sh, tidy.sh)
  "$@"
)

# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing setup "${PACKAGES[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release >&2
cmake --build --preset release -j "$jobs" >&2
