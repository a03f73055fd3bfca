#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest).
# `scripts/test.sh --fast` leaves out the tests labelled slow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=(--preset release -j "$(nproc 2>/dev/null || echo 2)" --timeout 600)
if [ "${1:-}" = "--fast" ]; then args+=(-LE slow); fi
ctest "${args[@]}"
