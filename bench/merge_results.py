#!/usr/bin/env python3
"""Merges one run of scripts/bench.sh into results.json and results.md (bench/README.md).

Inputs, all in RAW_DIR: the Google Benchmark JSON files (bench_*.gbench.json, one per suite, from
--benchmark_format=json --benchmark_out=...) and the whole-command scripts' files
(bench_*.sh.json, written by bench/bench_*.sh through BENCH_JSON). Python 3 standard library only.

Kernels are paired with their OpenCV baseline by benchmark family (PAIRS below) and arguments: a
baseline matches when its arguments equal the first arguments of the satiq benchmark (e.g.
BM_satiq_gaussian/8192/13 with BM_opencv_gaussian/8192/13, BM_sensor_noise/8192/0 with
BM_cv_randn/8192). Both sides come from the same executable and the same run.
"""
import argparse
import glob
import json
import os
import platform
import re
import statistics
import subprocess

# satiq family, baseline family, description ({0}, {1}: the benchmark's arguments), baseline label,
# index of the argument that is the TBB thread limit (None: all threads).
PAIRS = [
    ("satiq_gaussian", "opencv_gaussian", "separable Gaussian sigma 2, {1} taps, {0}^2 float32",
     "cv::GaussianBlur", None),
    ("satiq_psf31_auto", "opencv_filter2d_psf31", "31x31 obscured-aperture PSF, Auto, {0}^2",
     "cv::filter2D", None),
    ("satiq_psf31_lowrank", "opencv_filter2d_psf31", "31x31 PSF, forced low-rank, {0}^2",
     "cv::filter2D", None),
    ("satiq_psf31_fft", "opencv_filter2d_psf31", "31x31 PSF, forced FFT, {0}^2", "cv::filter2D", None),
    ("satiq_psf31_direct", "opencv_filter2d_psf31", "31x31 PSF, forced direct, {0}^2",
     "cv::filter2D", None),
    ("satiq_random31_auto", "opencv_filter2d_psf31", "31x31 random PSF, Auto, {0}^2",
     "cv::filter2D (31x31 PSF)", None),
    ("satiq_sharpen", "opencv_filter2d_sharpen", "sharpening (MTFC) {1}x{1}, {0}^2", "cv::filter2D",
     None),
    ("resample_area", "cv_resize_inter_area", "area resampling 1/3.3, {0}^2 input",
     "cv::resize INTER_AREA", None),
    ("sensor_noise", "cv_randn", "shot + read noise, 12-bit, quantize={1}, {0}^2", "cv::randn", None),
    ("gaussian_noise", "cv_randn", "Gaussian noise, {0}^2", "cv::randn", None),
    ("find_edges", "cv_canny_baseline", "edge search, {0}^2, {1} thread(s)", "cv::Canny (8-bit)", 1),
    ("estimate_noise", "cv_sobel_baseline", "Immerkaer noise estimate, {0}^2, {1} thread(s)",
     "cv::Sobel x and y + magnitude", 1),
]
# Families without an OpenCV/GDAL counterpart: description, index of the thread-limit argument.
UNPAIRED = {
    "analyse_edges": ("edge part of assess (noise, search, slanted-edge analysis), {0}^2, {1} thread(s)", 1),
    "edge_robustness": ("edge_robustness (leave-one-out), {0} usable edges, {1} thread(s)", 1),
    "resample_area_masked": ("area resampling 1/3.3 with nodata mask and coverage, {0}^2 input", None),
    "sensor_noise_exact_poisson": ("shot + read noise, exact Poisson path (dark scene), {0}^2", None),
    "noise_pca": ("noise estimate, weak-texture PCA (assess's SNR), {0}^2", None),
    "noise_immerkaer": ("noise estimate, Immerkaer, textured {0}^2", None),
    "estimate_sampling": ("effective-resolution detection, 2x cubic copy, {0}^2", None),
}
BASELINE_PREFIXES = ("opencv_", "cv_")


def parse_run_name(run_name):
    """'BM_satiq_gaussian/8192/13/real_time' -> ('satiq_gaussian', [8192, 13])."""
    parts = run_name.split("/")
    family = re.sub(r"^BM_", "", parts[0])
    args = [int(p) for p in parts[1:] if re.fullmatch(r"-?\d+", p)]
    return family, args


def to_seconds(value, unit):
    return value * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def load_gbench(path):
    """One entry per benchmark instance: the median aggregate when there are repetitions."""
    doc = json.load(open(path))
    groups = {}
    for b in doc.get("benchmarks", []):
        groups.setdefault(b.get("run_name", b["name"]), []).append(b)
    out = {}
    for run_name, entries in groups.items():
        med = [e for e in entries if e.get("run_type") == "aggregate" and e.get("aggregate_name") == "median"]
        its = [e for e in entries if e.get("run_type", "iteration") == "iteration"]
        if any(e.get("error_occurred") for e in entries):
            out[run_name] = {"error": next(e.get("error_message", "") for e in entries if e.get("error_occurred"))}
            continue
        if med:
            e = med[0]
            reps = e.get("repetitions", 0)
            stat = f"median of {reps} repetitions, wall time"
            t = to_seconds(e["real_time"], e["time_unit"])
            ips = e.get("items_per_second")
        elif its:
            times = [to_seconds(e["real_time"], e["time_unit"]) for e in its]
            t = statistics.median(times)
            stat = ("one repetition" if len(its) == 1 else f"median of {len(its)} repetitions") + ", wall time"
            ipss = [e["items_per_second"] for e in its if "items_per_second" in e]
            ips = statistics.median(ipss) if ipss else None
        else:
            continue
        family, args = parse_run_name(run_name)
        out[run_name] = {"family": family, "args": args, "time_s": t, "statistic": stat,
                         "iterations": sum(e.get("iterations", 0) for e in (med or its)),
                         "mpx_per_s": ips / 1e6 if ips else None}
    return doc.get("context", {}), out


def kernel_results(raw_dir, cores):
    comparisons, unpaired, errors, contexts = [], [], [], {}
    pair_by_family = {p[0]: p for p in PAIRS}
    for path in sorted(glob.glob(os.path.join(raw_dir, "*.gbench.json")), key=os.path.getmtime):  # run order
        suite = os.path.basename(path)[: -len(".gbench.json")]
        try:
            context, runs = load_gbench(path)
        except (OSError, ValueError) as e:
            errors.append({"suite": suite, "error": f"unreadable {path}: {e}"})
            continue
        contexts[suite] = context
        suite_load = [round(x, 2) for x in context.get("load_avg", [])] or None
        for run_name, r in runs.items():
            if "error" in r:
                errors.append({"suite": suite, "benchmark": run_name, "error": r["error"]})
        ok = {k: v for k, v in runs.items() if "error" not in v}
        baselines = {k: v for k, v in ok.items() if v["family"].startswith(BASELINE_PREFIXES)}
        for run_name, r in ok.items():
            if run_name in baselines:
                continue
            fam, args = r["family"], r["args"]
            pair = pair_by_family.get(fam)
            base = None
            if pair:
                for bname, b in baselines.items():
                    if b["family"] == pair[1] and b["args"] == args[: len(b["args"])]:
                        base = (bname, b)
                        break
            desc, targ = (pair[2], pair[4]) if pair else UNPAIRED.get(fam, (None, None))
            threads = args[targ] if targ is not None and targ < len(args) else cores
            short = re.sub(r"/(real_time|process_time|manual_time)(?=/|$)", "", run_name)
            try:
                name = desc.format(*args) if desc else short.removeprefix("BM_")
            except IndexError:  # a family registered with fewer arguments than its description
                name = short.removeprefix("BM_")
            entry = {"suite": suite, "kind": "kernel", "name": name,
                     "satiq_name": short, "satiq_time_s": r["time_s"]}
            if base:
                bname, b = base
                entry.update({
                    "baseline_name": pair[3],
                    "baseline_benchmark": re.sub(r"/(real_time|process_time|manual_time)$", "", bname),
                    "baseline_time_s": b["time_s"],
                    "ratio_baseline_over_satiq": b["time_s"] / r["time_s"] if r["time_s"] > 0 else None,
                    "threads": threads, "statistic": r["statistic"],
                    "satiq_mpx_per_s": r["mpx_per_s"], "baseline_mpx_per_s": b["mpx_per_s"],
                    "load_average_1m_5m_15m_at_suite_start": suite_load})
                comparisons.append(entry)
            else:
                entry.update({"threads": threads, "statistic": r["statistic"], "satiq_mpx_per_s": r["mpx_per_s"],
                              "load_average_1m_5m_15m_at_suite_start": suite_load})
                unpaired.append(entry)
    return comparisons, unpaired, errors, contexts


def command_results(raw_dir):
    comparisons, unpaired, errors, loads = [], [], [], {}
    for path in sorted(glob.glob(os.path.join(raw_dir, "*.sh.json")), key=os.path.getmtime):  # run order
        suite = os.path.basename(path)[: -len(".json")]
        try:
            doc = json.load(open(path))
        except (OSError, ValueError) as e:
            errors.append({"suite": suite, "error": f"unreadable {path}: {e}"})
            continue
        loads[suite] = {k: v for k, v in doc.items() if k.startswith("load_average")}
        load = {"load_average_1m_5m_15m_at_suite_start": doc.get("load_average_1m_5m_15m_before")}
        for c in doc.get("comparisons", []):
            comparisons.append({"suite": suite, "kind": "command", **c, **load})
        for c in doc.get("unpaired", []):
            unpaired.append({"suite": suite, "kind": "command", **c, **load})
    return comparisons, unpaired, errors, loads


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_info(load_start, compiler):
    cpu = None
    lscpu = sh("lscpu") or ""
    m = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    if m:
        cpu = m.group(1).strip()
    else:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    flags = open("/proc/cpuinfo").read()
    simd = [f for f in ("avx512f", "avx2", "fma") if re.search(rf"\b{f}\b", flags)]
    mem_kib = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return {
        "cpu_model": cpu,
        "cpu_simd_flags": simd,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "load_average_1m_5m_15m": [float(x) for x in load_start.split()],
        "load_average_1m_5m_15m_end": [round(x, 2) for x in os.getloadavg()],
        "kernel": f"{platform.system()} {platform.release()}",
        "os": (sh("sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\"") or None),
        "compiler": compiler,
        "opencv_version": sh("pkg-config", "--modversion", "opencv4"),
        "gdal_version": sh("gdal-config", "--version"),
    }


def fmt_time(s):
    if s is None:
        return ""
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def fmt_ratio(r):
    return "" if r is None else f"**{r:.2f}x**"


def md_escape(s):
    return str(s).replace("|", "\\|")


def markdown(doc):
    m = doc["machine"]
    la = " ".join(f"{x:.2f}" for x in m["load_average_1m_5m_15m"])
    la_end = " ".join(f"{x:.2f}" for x in m["load_average_1m_5m_15m_end"])
    lines = [
        f"# satiq benchmarks, {doc['date_utc']}",
        "",
        f"- machine: {m['cpu_model']} ({', '.join(m['cpu_simd_flags']) or 'no AVX2'}), {m['cores']} cores, "
        f"{m['memory_gib']} GiB; {m['os']}, {m['kernel']}",
        f"- load average (1, 5, 15 min): {la} at the start, {la_end} at the end",
        f"- compiler: {m['compiler']}; OpenCV {m['opencv_version']}, GDAL {m['gdal_version']}",
        f"- satiq commit {doc['git_commit']}{' (with uncommitted changes)' if doc['git_dirty'] else ''}, "
        f"mode `{doc['mode']}` ({doc['settings']['google_benchmark']})"
        + (f", filter `{doc['settings']['filter']}`" if doc['settings']['filter'] else ""),
        "",
        "Ratio = baseline time / satiq time, both measured in this run on this machine: above 1 satiq "
        "is faster. Times are wall times; on a loaded machine they measure the scheduler too "
        "(bench/README.md).",
        "",
    ]
    suite_loads = {}
    for c in doc["comparisons"] + doc["unpaired"]:
        if c.get("load_average_1m_5m_15m_at_suite_start"):
            suite_loads.setdefault(c["suite"], c["load_average_1m_5m_15m_at_suite_start"][0])
    if suite_loads:
        lines += ["Load average (1 min) when each suite started: "
                  + ", ".join(f"{s} {v:.2f}" for s, v in suite_loads.items()) + ".", ""]
    kernels = [c for c in doc["comparisons"] if c["kind"] == "kernel"]
    commands = [c for c in doc["comparisons"] if c["kind"] == "command"]
    if kernels:
        lines += ["## Kernels against OpenCV (Google Benchmark)", "",
                  "| kernel | satiq | baseline | ratio | threads | benchmark |", "|---|---|---|---|---|---|"]
        for c in kernels:
            lines.append(f"| {md_escape(c['name'])} | {fmt_time(c['satiq_time_s'])} | "
                         f"{md_escape(c['baseline_name'])} {fmt_time(c['baseline_time_s'])} | "
                         f"{fmt_ratio(c['ratio_baseline_over_satiq'])} | {c['threads']} | "
                         f"{c['suite']} `{c['satiq_name']}` |")
        lines.append("")
    if commands:
        lines += ["## Whole commands", "",
                  "| comparison | satiq | baseline | ratio | threads | statistic |", "|---|---|---|---|---|---|"]
        for c in commands:
            lines.append(f"| {md_escape(c['name'])} | {md_escape(c['satiq_name'])} {fmt_time(c['satiq_time_s'])} | "
                         f"{md_escape(c['baseline_name'])} {fmt_time(c['baseline_time_s'])} | "
                         f"{fmt_ratio(c['ratio_baseline_over_satiq'])} | {c['threads']} | {c['statistic']} |")
        lines.append("")
    if doc["unpaired"]:
        lines += ["## Without a baseline", "", "| measurement | satiq | threads | statistic | benchmark |",
                  "|---|---|---|---|---|"]
        for c in doc["unpaired"]:
            extra = f", peak RSS {c['peak_rss_mib']:.0f} MiB" if c.get("peak_rss_mib") else ""
            bench = f"{c['suite']} `{c['satiq_name']}`" if c["kind"] == "kernel" else c["suite"]
            lines.append(f"| {md_escape(c['name'])} | {fmt_time(c['satiq_time_s'])}{extra} | {c.get('threads', '')} | "
                         f"{c.get('statistic', '')} | {bench} |")
        lines.append("")
    if doc["failures"]:
        lines += ["## Failures", ""]
        for f in doc["failures"]:
            where = f"{f['suite']} `{f['benchmark']}`" if f.get("benchmark") else f["suite"]
            lines.append(f"- {where}: {md_escape(f['error'])}")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True, help="folder with *.gbench.json and *.sh.json")
    ap.add_argument("--out", required=True, help="folder for results.json and results.md")
    ap.add_argument("--mode", required=True)
    ap.add_argument("--gbench-args", default="")
    ap.add_argument("--filter", default="")
    ap.add_argument("--load-start", required=True, help="'1m 5m 15m' load average when the run started")
    ap.add_argument("--date-utc", required=True)
    ap.add_argument("--compiler", default=None)
    ap.add_argument("--git-commit", default=None)
    ap.add_argument("--git-dirty", action="store_true")
    ap.add_argument("--failed", action="append", default=[], help="SUITE:LOG of a suite that exited non-zero")
    a = ap.parse_args()

    cores = os.cpu_count()
    kc, ku, kerr, contexts = kernel_results(a.raw, cores)
    cc, cu, cerr, loads = command_results(a.raw)
    failures = kerr + cerr + [{"suite": f.split(":", 1)[0], "error": f"exited non-zero, log {f.split(':', 1)[1]}"}
                              for f in a.failed]
    doc = {
        "schema_version": 1,
        "date_utc": a.date_utc,
        "git_commit": a.git_commit,
        "git_dirty": a.git_dirty,
        "mode": a.mode,
        "settings": {"google_benchmark": a.gbench_args, "filter": a.filter or None},
        "machine": machine_info(a.load_start, a.compiler),
        "comparisons": kc + cc,
        "unpaired": ku + cu,
        "failures": failures,
        "load_average_by_script": loads,
        "google_benchmark_context": {
            s: {k: c.get(k) for k in ("num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "library_build_type", "load_avg")}
            for s, c in contexts.items()},
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(markdown(doc))
    print(f"merge: {len(kc)} kernel and {len(cc)} command comparisons, {len(ku) + len(cu)} without a baseline, "
          f"{len(failures)} failures -> {a.out}/results.json, {a.out}/results.md")


if __name__ == "__main__":
    main()
