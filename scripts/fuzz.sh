#!/usr/bin/env bash
# Fuzzes satiq with libFuzzer (Debian's clang; docs/fuzzing.md):
#
#   bash scripts/fuzz.sh [raster|parse|all] [SECONDS] [--merge]
#
# SECONDS 0 runs no fuzzing (with --merge: only the merge of out/fuzz/TARGET/corpus).
# Installs clang when it is missing (only the missing packages: scripts/lib/apt.sh), configures
# and builds the `fuzz` preset (build/fuzz: clang++, ASan + UBSan, coverage), then runs each target
# in turn (one job) for SECONDS (default 600) on its seed corpus tests/fuzz/corpus/TARGET. New
# inputs go to out/fuzz/TARGET/corpus, crashes, timeouts and out-of-memory inputs to
# out/fuzz/TARGET/artifacts/, the log to out/fuzz/TARGET/fuzz-DATE.log. --merge then adds to the seed
# corpus only the inputs that give new coverage (-merge=1), so that CI replays them.
# Environment: SATIQ_FUZZ_BUILD_JOBS (default: all cores) for the build.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-all}"
seconds="${2:-600}"
merge=0
[ "${3:-}" = "--merge" ] && merge=1
case "$target" in
  raster | parse) targets=("$target") ;;
  all) targets=(raster parse) ;;
  *)
    echo "usage: bash scripts/fuzz.sh [raster|parse|all] [SECONDS] [--merge]" >&2
    exit 2
    ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz: SECONDS must be a whole number (got '$seconds')" >&2
  exit 2
fi

# Debian 12 packages: clang 14 and its libFuzzer/sanitizer runtimes, and what the build needs.
PACKAGES=(
  clang libclang-rt-14-dev
  cmake ninja-build pkg-config
  libopencv-dev libgdal-dev libproj-dev libtbb-dev libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
)
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing fuzz "${PACKAGES[@]}"

jobs="${SATIQ_FUZZ_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
cmake --preset fuzz >&2
cmake --build --preset fuzz -j "$jobs" >&2

# Findings must stop the run with a report: UBSan aborts (the build has -fno-sanitize-recover),
# ASan reports and aborts; leaks are findings too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for t in "${targets[@]}"; do
  bin="build/fuzz/fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  work="out/fuzz/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -max_len=20000 -print_final_stats=1
    -artifact_prefix="$work/artifacts/")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  log="$work/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
  rc=0
  if [ "$seconds" -gt 0 ]; then
    echo "fuzz: $bin for $seconds s on $seeds (new inputs: $work/corpus, log: $log)" >&2
    # The first folder receives the new inputs; the seed corpus is only read.
    set +e
    "$bin" "${args[@]}" "$work/corpus" "$seeds" 2>&1 | tee "$log" |
      grep -E --line-buffered "INITED|DONE|ERROR|SUMMARY|Test unit written|stat::|pulse" >&2
    rc=${PIPESTATUS[0]}
    set -e
  fi
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t: FINDING (exit $rc): see $log and $work/artifacts/" >&2
    status=1
    continue
  fi
  if [ "$merge" -eq 1 ]; then
    # -merge=1 keeps every input already in the seed corpus and adds, smallest first, the inputs
    # of the working corpus that add coverage. The corpus stays small: inputs of 20 KB or more are
    # not taken, and the largest added ones are dropped again while the files exceed the budget
    # (raster 190 KB, parse 150 KB; seed_* and regress_* files are always kept). The merge runs in
    # a scratch folder; the inputs kept are then copied into the seed corpus.
    before=$(ls "$seeds" | wc -l)
    scratch="$(mktemp -d)"
    mkdir "$scratch/small" "$scratch/merged"
    find "$work/corpus" -type f -size -20k -exec cp {} "$scratch/small/" \;
    cp "$seeds"/* "$scratch/merged/"
    "$bin" -merge=1 -rss_limit_mb=2048 -timeout=30 -max_len=20000 "$scratch/merged" "$scratch/small" \
      >"$work/merge.log" 2>&1
    budget=190
    [ "$t" = parse ] && budget=150
    bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
    find "$scratch/merged" -type f ! -name 'seed_*' ! -name 'regress_*' -printf '%s %p\n' | sort -n -r |
      while read -r _ file; do
        [ "$(bytes "$scratch/merged")" -le $((budget * 1024)) ] && break
        rm -f "$file"
      done || true # the loop's early break ends sort with SIGPIPE
    cp -n "$scratch/merged"/* "$seeds/"
    rm -rf "$scratch"
    echo "fuzz: $t: merged into $seeds: $before -> $(ls "$seeds" | wc -l) inputs, $(bytes "$seeds") bytes" >&2
  fi
done
exit $status
