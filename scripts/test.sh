#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: every ctest test of the release
# build (slow ones included; Style.ClangFormat and Style.ClangTidy among them), then the fast
# subset and the hostile-input corpus again under AddressSanitizer + UndefinedBehaviorSanitizer
# (scripts/sanitize.sh asan --fast: the debug preset, build/debug).
#
#   bash scripts/test.sh           everything (CI runs exactly this through .ci/run)
#   bash scripts/test.sh --fast    only the release tests not labelled slow (under a minute on 2 cores)
#
# SATIQ_SKIP_ASAN=1 leaves out the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [ "${1:-}" = "--fast" ]; then fast=1; fi
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
args=(--preset release -j "$jobs" --timeout 900)
if [ "$fast" = 1 ]; then args+=(-LE slow); fi
ctest "${args[@]}"
if [ "$fast" = 0 ] && [ "${SATIQ_SKIP_ASAN:-0}" != 1 ]; then
    SATIQ_SKIP_SETUP=1 bash scripts/sanitize.sh asan --fast
fi
