#!/usr/bin/env bash
# Runs clang-tidy (Debian's clang-tidy 14, checks in .clang-tidy) on every C++ source of the
# libraries and the CLI (kernels/, pipeline/), with the compile commands of a configured build.
#
#   scripts/tidy.sh [BUILD_DIR] [FILE_REGEX]      BUILD_DIR default build/release
#
# Fails when clang-tidy reports anything (WarningsAsErrors in .clang-tidy). Run by ctest as
# Style.ClangTidy (label slow). Parallel over $SATIQ_JOBS (default nproc) files.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
regex=${2:-"^$PWD/(kernels|pipeline)/.*\\.cpp\$"}
if [ ! -f "$build/compile_commands.json" ]; then
    echo "tidy: $build/compile_commands.json is missing: configure the build first (cmake --preset release)" >&2
    exit 2
fi
runner=$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)
if [ -z "$runner" ]; then
    echo "tidy: run-clang-tidy is not installed (Debian package clang-tidy; scripts/setup.sh installs it)" >&2
    exit 2
fi
jobs=${SATIQ_JOBS:-$(nproc 2>/dev/null || echo 2)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
"$runner" -quiet -p "$build" -j "$jobs" "$regex" >"$log" 2>&1
rc=$?
set -e
# run-clang-tidy prints each file's command line and the findings (coloured); keep the findings.
sed -i 's/\x1b\[[0-9;]*m//g' "$log"
grep -E ': (warning|error): ' "$log" | sort -u >&2 || true
n=$({ grep -E ': (warning|error): ' "$log" || true; } | sort -u | wc -l)
echo "tidy: $n findings (exit $rc)" >&2
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
