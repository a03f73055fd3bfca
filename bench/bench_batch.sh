#!/usr/bin/env bash
# satiq batch throughput on 200 generated 1024x1024 UInt16 airfield scenes (different seeds):
#   1. all cores (--jobs 0) against --jobs 1: the speed-up (target >= 1.8x on 2 cores) and the
#      images per second (target >= 20), with the peak memory (GNU time's max RSS) against the
#      bound given with --max-memory;
#   2. `mpirun -n 2` against one process with 2 threads on the same images: the MPI overhead per
#      image in milliseconds (skipped when mpirun is missing).
# Usage: bash bench/bench_batch.sh [BUILD_DIR] [WORK_DIR]   (default build/release, out/bench/batch)
# N=50 makes a quicker run. Needs GNU time (Debian package `time`, installed when missing).
# BENCH_JSON: machine-readable results (default WORK_DIR/bench.json; read by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
WORK=${2:-out/bench/batch}
N=${N:-200}
SATIQ=$BUILD/pipeline/cli/satiq
MAXMEM=${MAXMEM:-2G}
BENCH_JSON=${BENCH_JSON:-$WORK/bench.json}
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
install_missing bench_batch time python3  # GNU time for the peak RSS
mkdir -p "$WORK/in"
for i in $(seq 1 "$N"); do
  f="$WORK/in/scene_$(printf %03d "$i").tif"
  [ -f "$f" ] || "$SATIQ" -q synth airfield "$f" --bits 16 --size 1024 --seed "$i" --format text >/dev/null
  rm -f "${f%.tif}.json"
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, load $LOAD_BEFORE, $(date -u +%F)"
run() {  # label, extra args...: prints wall seconds and max RSS (KiB)
  local label=$1; shift
  rm -rf "$WORK/out_$label"
  /usr/bin/time -f '%e %M %x' -o "$WORK/time_$label" "$@" >/dev/null 2>"$WORK/err_$label" || true
  read -r wall rss status < <(tail -1 "$WORK/time_$label")  # after "Command exited with ..."
  [ "$status" = 0 ] || echo "bench_batch: $label exited with status $status (see $WORK/err_$label)" >&2
  echo "$label $wall $rss"
}
one=$(run jobs1 "$SATIQ" -q batch "$WORK/in" -o "$WORK/out_jobs1" --jobs 1 --max-memory "$MAXMEM")
all=$(run jobsall "$SATIQ" -q batch "$WORK/in" -o "$WORK/out_jobsall" --max-memory "$MAXMEM")
read -r _ w1 r1 <<< "$one"
read -r _ wa ra <<< "$all"
echo
echo "| run | wall s | images/s | peak RSS MiB |"
echo "|---|---|---|---|"
awk -v n="$N" -v w="$w1" -v r="$r1" 'BEGIN { printf "| --jobs 1 | %.2f | %.1f | %.0f |\n", w, n / w, r / 1024 }'
awk -v n="$N" -v w="$wa" -v r="$ra" 'BEGIN { printf "| all cores | %.2f | %.1f | %.0f |\n", w, n / w, r / 1024 }'
awk -v a="$w1" -v b="$wa" 'BEGIN { printf "speed-up all cores / --jobs 1: %.2fx (target >= 1.8x)\n", a / b }'
echo "memory bound (--max-memory): $MAXMEM"
if command -v mpirun >/dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_plm_rsh_agent=
  mp=$(run mpi2 mpirun -n 2 --oversubscribe --bind-to none --mca btl self,tcp "$SATIQ" -q batch "$WORK/in" -o "$WORK/out_mpi2")
  read -r _ wm rm_ <<< "$mp"
  awk -v n="$N" -v m="$wm" -v t="$wa" 'BEGIN { printf "| mpirun -n 2 | %.2f | %.1f | |\nMPI overhead per image: %.1f ms (mpirun -n 2 against one process with 2 threads)\n", m, n / m, 1000 * (m - t) / n }'
fi
python3 - "$BENCH_JSON" "$N" "$(nproc)" "$LOAD_BEFORE" "$w1" "$r1" "$wa" "$ra" "${wm:-}" <<'PY'
import json, sys
out, n, cores, load, w1, r1, wa, ra, wm = sys.argv[1:]
n, w1, wa = int(n), float(w1), float(wa)
comparisons = [{
    "name": f"batch {n} x 1024^2 UInt16 airfield scenes: all cores against one worker",
    "satiq_name": "satiq batch (all cores, --jobs 0)", "satiq_time_s": wa,
    "baseline_name": "satiq batch --jobs 1 (one worker, one thread)", "baseline_time_s": w1,
    "ratio_baseline_over_satiq": w1 / wa, "threads": int(cores), "baseline_threads": 1,
    "statistic": "one run each, wall time (GNU time)",
    "satiq_images_per_s": n / wa, "baseline_images_per_s": n / w1,
    "satiq_peak_rss_mib": int(ra) / 1024, "baseline_peak_rss_mib": int(r1) / 1024,
}]
if wm:
    wm = float(wm)
    comparisons.append({
        "name": f"batch {n} x 1024^2 UInt16 airfield scenes: MPI ranks against threads",
        "satiq_name": "mpirun -n 2 satiq batch (one image per rank)", "satiq_time_s": wm,
        "baseline_name": "satiq batch (one process, all cores)", "baseline_time_s": wa,
        "ratio_baseline_over_satiq": wa / wm, "threads": int(cores),
        "statistic": "one run each, wall time (GNU time)",
        "mpi_overhead_per_image_ms": 1000 * (wm - wa) / n,
    })
json.dump({"suite": "bench_batch.sh", "load_average_1m_5m_15m_before": [float(x) for x in load.split()],
           "comparisons": comparisons, "unpaired": []}, open(out, "w"), indent=1)
PY
