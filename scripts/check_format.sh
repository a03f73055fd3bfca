#!/usr/bin/env bash
# Fails when a C++ source of satiq is not formatted as .clang-format says (clang-format 14,
# Debian's clang-format package). `scripts/check_format.sh --fix` formats them in place instead.
# Run by ctest as Style.ClangFormat.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run --Werror)
[ "${1:-}" = "--fix" ] && mode=(-i)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
else
    mapfile -t files < <(find kernels pipeline tests bench cmake -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \))
fi
# The configure_file templates (*.in) are left out: their @VARIABLES@ are not C++.
clang-format "${mode[@]}" "${files[@]}"
echo "check_format: ${#files[@]} files ${mode[*]}" >&2
