#!/usr/bin/env bash
# Runs every satiq benchmark and writes one report (bench/README.md explains how to read it):
#
#   bash scripts/bench.sh [--quick] [--filter REGEX] [--out DIR]
#
# 1. scripts/setup.sh installs the Debian packages that are missing (the build's, plus hyperfine,
#    time and python3 for the whole-command scripts) and builds the release preset; the benchmarks
#    are built when SATIQ_BUILD_BENCH is ON (the default; switched on here when the cache has OFF).
# 2. Every Google Benchmark executable in build/release/bench (each satiq kernel beside its OpenCV
#    baseline in the same binary) runs with --benchmark_format=json --benchmark_out=DIR/raw/...:
#    by default 3 repetitions, median aggregates; --quick: one repetition, --benchmark_min_time 0.05.
# 3. The whole-command scripts bench/bench_{degrade,assess,sweep,batch,report}.sh run (satiq
#    degrade against gdal_translate, assess, sweep against the commands one by one, batch on all
#    cores against one worker and against mpirun, report on 300,000 records), each writing DIR/raw/NAME.sh.json. --quick makes them
#    smaller (fewer runs, no 20000^2 degrade, a 2048^2 sweep input, 20 batch images, 50,000
#    records).
# 4. bench/merge_results.py writes DIR/results.json and DIR/results.md: each kernel beside its
#    baseline from this run, the ratio baseline/satiq (above 1: satiq is faster), the machine
#    (CPU, cores, load average at the start and the end, kernel, compiler), the date and commit.
#
# --filter REGEX is given to every Google Benchmark executable (--benchmark_filter) and runs only the
# scripts whose name (bench_degrade, bench_assess, bench_sweep, bench_batch, bench_report) matches it.
# --out DIR (default out/bench): DIR/raw (per-suite JSON), DIR/logs (console output of each suite),
# DIR/work (the scripts' inputs, kept between runs so the next run does not make them again).
# Environment: SATIQ_SKIP_SETUP=1 skips step 1 (the build must exist).
# Exit status: 0 when every suite ran, 1 when one failed (the report lists it), 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '4p' "$0" | sed 's/^#   /usage: /' >&2
  exit 2
}
quick=0
filter=""
out=out/bench
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --filter)
      [ $# -ge 2 ] || usage
      filter=$2
      shift
      ;;
    --filter=*) filter=${1#--filter=} ;;
    --out)
      [ $# -ge 2 ] || usage
      out=$2
      shift
      ;;
    --out=*) out=${1#--out=} ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; usage ;;
  esac
  shift
done
if [ -n "$filter" ]; then
  # A malformed regular expression is a usage error, before anything is built or run.
  status=0
  [[ "" =~ $filter ]] || status=$?
  if [ "$status" -eq 2 ]; then echo "bench: --filter '$filter' is not a valid regular expression" >&2; exit 2; fi
fi

BUILD=build/release
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. packages and build -------------------------------------------------------------------
if [ "${SATIQ_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup.sh hyperfine time python3
  if ! grep -q '^SATIQ_BUILD_BENCH:BOOL=ON$' "$BUILD/CMakeCache.txt"; then
    echo "bench: SATIQ_BUILD_BENCH is OFF in $BUILD; configuring with -DSATIQ_BUILD_BENCH=ON" >&2
    cmake --preset release -DSATIQ_BUILD_BENCH=ON >&2
    cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" >&2
  fi
fi
mapfile -t suites < <(find "$BUILD/bench" -maxdepth 1 -type f -executable -name 'bench_*' 2>/dev/null | sort)
if [ "${#suites[@]}" -eq 0 ]; then
  echo "bench: no Google Benchmark executables in $BUILD/bench (SATIQ_BUILD_BENCH=ON, release preset)" >&2
  exit 1
fi

rm -rf "$out/raw" "$out/logs"
mkdir -p "$out/raw" "$out/logs" "$out/work"
failed=()

# ---- 2. Google Benchmark suites ----------------------------------------------------------------
if ((quick)); then
  gbench_args=(--benchmark_repetitions=1 --benchmark_min_time=0.05)
else
  gbench_args=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
fi
[ -n "$filter" ] && gbench_args+=("--benchmark_filter=$filter")
for exe in "${suites[@]}"; do
  name=$(basename "$exe")
  log="$out/logs/$name.log"
  echo "bench: $name ${gbench_args[*]} (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  set +e
  "$exe" "${gbench_args[@]}" --benchmark_format=console --benchmark_out_format=json \
    --benchmark_out="$out/raw/$name.gbench.json" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if grep -q "^Failed to match any benchmarks" "$log"; then
    rm -f "$out/raw/$name.gbench.json"  # the filter selects nothing in this suite (exit status 0)
  elif [ "$rc" -ne 0 ] || [ ! -s "$out/raw/$name.gbench.json" ]; then
    failed+=("$name:$log")
  fi
done

# ---- 3. whole-command scripts ------------------------------------------------------------------
run_script() {  # name, then VAR=value settings for the script
  local name=$1 log
  shift
  if [ -n "$filter" ] && ! [[ "$name" =~ $filter ]]; then return 0; fi
  log="$out/logs/$name.sh.log"
  echo "bench: bench/$name.sh $* (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  set +e
  env "$@" BENCH_JSON="$out/raw/$name.sh.json" bash "bench/$name.sh" "$BUILD" "$out/work/${name#bench_}" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then failed+=("$name.sh:$log"); fi
}
if ((quick)); then
  run_script bench_degrade RUNS=3 WARMUP=1 SKIP_20K=1
  run_script bench_assess RUNS=2
  run_script bench_sweep REPS=1 SIZE=2048
  run_script bench_batch N=20
  run_script bench_report N=50000
else
  run_script bench_degrade
  run_script bench_assess
  run_script bench_sweep
  run_script bench_batch
  run_script bench_report
fi

# ---- 4. results.json and results.md ------------------------------------------------------------
if [ -z "$(ls -A "$out/raw")" ] && ((${#failed[@]} == 0)); then
  echo "bench: --filter '$filter' selected no benchmark and no script" >&2
fi
compiler_path=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
compiler=$("${compiler_path:-c++}" --version 2>/dev/null | head -1 || true)
flags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
native=$(sed -n 's/^SATIQ_NATIVE:BOOL=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
compiler="$compiler, Release ${flags}${native:+, SATIQ_NATIVE=$native}"
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=()
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=(--git-dirty)
failed_args=()
for f in "${failed[@]}"; do failed_args+=(--failed "$f"); done
python3 bench/merge_results.py --raw "$out/raw" --out "$out" --mode "$( ((quick)) && echo quick || echo full)" \
  --gbench-args "${gbench_args[*]}" --filter "$filter" --load-start "$load_start" --date-utc "$date_utc" \
  --compiler "$compiler" --git-commit "$commit" "${dirty[@]}" "${failed_args[@]}"
echo
cat "$out/results.md"
if ((${#failed[@]})); then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
