#!/usr/bin/env bash
# satiq report on a large results.jsonl: the wall time and peak memory of merging, summarising and
# reporting N records (default 300,000, about 420 MB: an archive-sized batch), as `satiq report`
# and the end of `satiq batch` do it.
# The records are the batch records of the bundled samples, repeated under distinct paths.
# Usage: bash bench/bench_report.sh [BUILD_DIR] [WORK_DIR]   (default build/release, out/bench/report)
# N=50000 makes a quicker run; BASELINE=/path/to/another/satiq runs that binary on the same file
# too (an older build, for a before/after). Needs GNU time (Debian package `time`).
# BENCH_JSON: machine-readable results (default WORK_DIR/bench.json; read by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-out/bench/report}
N=${N:-300000}
SATIQ=$BUILD/pipeline/cli/satiq
BENCH_JSON=${BENCH_JSON:-$WORK/bench.json}
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing bench_report time python3
mkdir -p "$WORK/records"
rm -rf "$WORK/seed"
"$SATIQ" -q batch samples -o "$WORK/seed" >/dev/null || true # a failure record is a record too
# N records: the seed records in turn, each under its own path (the merge keys on the path).
awk -v n="$N" '{ r[NR] = $0 } END {
  for (i = 0; i < n; ++i) {
    line = r[i % NR + 1]
    sub(/"path":"[^"]*"/, sprintf("\"path\":\"/archive/scene_%07d.tif\"", i), line)
    print line
  } }' "$WORK/seed/results.jsonl" >"$WORK/records/results.jsonl"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores," \
  "load $LOAD_BEFORE, $(date -u +%F)"
echo "input: $N records, $(du -m "$WORK/records/results.jsonl" | cut -f1) MB"
run() { # label, binary
  rm -rf "$WORK/out_$1"
  /usr/bin/time -f '%e %M' -o "$WORK/time_$1" "$2" -q report "$WORK/records" -o "$WORK/out_$1" >/dev/null
  read -r wall rss <"$WORK/time_$1"
  echo "$1: $wall s wall, peak RSS $((rss / 1024)) MiB, $(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.0f", n / w }') records/s"
}
run satiq "$SATIQ"
if [ -n "${BASELINE:-}" ]; then
  run baseline "$BASELINE"
  for f in results.jsonl summary.csv; do
    if cmp -s "$WORK/out_satiq/$f" "$WORK/out_baseline/$f"; then
      echo "$f: identical"
    else
      echo "$f: differs (columns in the header: $(head -1 "$WORK/out_baseline/$f" | tr ',' '\n' | wc -l) in the" \
        "baseline's, $(head -1 "$WORK/out_satiq/$f" | tr ',' '\n' | wc -l) in this build's)"
    fi
  done
fi
read -r ws rs <"$WORK/time_satiq"
python3 - "$BENCH_JSON" "$N" "$LOAD_BEFORE" "$ws" "$rs" <<'PY'
import json, sys
out, n, load, wall, rss = sys.argv[1:]
json.dump({
    "suite": "bench_report.sh",
    "load_average_1m_5m_15m_before": [float(x) for x in load.split()],
    "comparisons": [],
    "unpaired": [{
        "name": f"satiq report of {int(n):,} records (merge, summary.csv, report.html)",
        "satiq_name": "satiq report", "satiq_time_s": float(wall), "peak_rss_mib": int(rss) / 1024,
        "records_per_s": int(n) / float(wall), "threads": 1, "statistic": "one run, wall time (GNU time)"}],
}, open(out, "w"), indent=1)
PY
