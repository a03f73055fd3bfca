#!/usr/bin/env bash
# Builds a sanitizer preset and runs tests under it (docs/sanitizers.md).
#
#   scripts/sanitize.sh tsan [--fast] [--exe A,B] [REGEX]   ThreadSanitizer: preset tsan, build/tsan
#   scripts/sanitize.sh asan [--fast] [--exe A,B] [REGEX]   AddressSanitizer + UBSan + LeakSanitizer:
#                                                           preset debug, build/debug
#
# Tests run by default: tsan: the kernel and batch test executables; asan: the hostile-input
# corpus (test_hostile_corpus, and any test labelled hostile), or, while there is none, the CLI
# output-path and exit-code tests, the raster tests and the progress/interrupt tests.
# --fast adds every test labelled fast. --exe A,B runs the tests of these test executables
# instead of the default ones. REGEX runs the tests it matches instead (ctest -R REGEX); with
# --exe as well, only those executables are built.
#
# Every sanitizer report goes to a file under build/PRESET/sanitizer-logs/ (log_path), from the
# test executables and from the satiq processes the CLI tests spawn alike; the script fails when
# ctest fails or when any report file was written, and prints the reports. A report also makes
# the reporting process exit non-zero (TSan 66; ASan/UBSan abort), which fails its test.
#
# tsan first builds oneTBB with -fsanitize=thread into build/tbb-tsan/install (once, about 3 min
# on one core; the preset links it): Debian's libtbb is not instrumented, so TSan sees none of the
# synchronization inside it and reports every parallel_for as a race. The source is the Debian
# source package of the installed libtbb-dev (the same version as its headers), fetched with
# `apt-get source` through a private deb-src list in build/tbb-tsan/apt (/etc/apt is not changed).
#
# Environment: SATIQ_JOBS (build and ctest parallelism; default nproc), SATIQ_TEST_TIMEOUT
# (seconds per test; default 1800: sanitized code runs 5-20x slower), SATIQ_SKIP_SETUP=1 (do not
# run scripts/setup.sh, which installs missing packages and also builds the release preset).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() {
    sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

mode=${1:-}
case "$mode" in
    tsan) preset=tsan ;;
    asan) preset=debug ;;
    -h | --help) usage ;;
    *) usage ;;
esac
shift
fast=0
regex=""
exe_list=""
while (($#)); do
    case "$1" in
        --fast) fast=1 ;;
        --exe)
            exe_list=${2:?--exe needs a comma-separated list of test executables}
            shift
            ;;
        -h | --help) usage ;;
        -*) echo "sanitize: unknown option $1" >&2; usage ;;
        *) regex=$1 ;;
    esac
    shift
done

if [ "${SATIQ_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
jobs=${SATIQ_JOBS:-$(nproc 2>/dev/null || echo 2)}
timeout=${SATIQ_TEST_TIMEOUT:-1800}
build=$root/build/$preset
start=$(date +%s)

# oneTBB instrumented with TSan, built from the Debian source of the installed libtbb-dev.
tsan_tbb() {
    local dir=$root/build/tbb-tsan pkg ver src f
    pkg=$(dpkg-query -W -f='${source:Package}' libtbb-dev)
    ver=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
    if [ "$(cat "$dir/install/.satiq-tbb-source" 2>/dev/null)" = "$pkg $ver" ]; then return 0; fi
    echo "sanitize: building $pkg $ver with -fsanitize=thread into $dir/install" >&2
    # shellcheck source=scripts/lib/apt.sh
    source "$root/scripts/lib/apt.sh"
    install_missing sanitize dpkg-dev  # apt-get source unpacks with its dpkg-source
    rm -rf "$dir"
    mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/apt/parts" "$dir/src"
    : >"$dir/apt/none.list"
    # The deb-src twin of every enabled deb entry of the system.
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        if [ -f "$f" ]; then sed -n 's/^deb /deb-src /p' "$f"; fi
    done >"$dir/apt/parts/satiq-src.list"
    for f in /etc/apt/sources.list.d/*.sources; do
        if [ -f "$f" ]; then sed 's/^Types:.*/Types: deb-src/' "$f" >"$dir/apt/parts/$(basename "$f")"; fi
    done
    local apt=(-o "Dir::Etc::SourceList=$dir/apt/none.list" -o "Dir::Etc::SourceParts=$dir/apt/parts"
        -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o APT::Sandbox::User=root)
    apt-get "${apt[@]}" -qq update >&2 || true  # a source without deb-src must not stop the rest
    (cd "$dir/src" && apt-get "${apt[@]}" source --only-source "$pkg=$ver" >&2)
    src=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d | head -1)
    if [ -z "$src" ] || [ ! -f "$src/CMakeLists.txt" ]; then
        echo "sanitize: could not get the source of $pkg $ver (apt-get source)" >&2
        exit 1
    fi
    cmake -S "$src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_SANITIZE=thread \
        -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBB_STRICT=OFF -DTBBMALLOC_BUILD=OFF \
        -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON -DCMAKE_INSTALL_PREFIX="$dir/install" \
        -DCMAKE_INSTALL_LIBDIR=lib >&2
    cmake --build "$dir/build" -j "$jobs" >&2
    cmake --install "$dir/build" >&2
    echo "$pkg $ver" >"$dir/install/.satiq-tbb-source"
}
if [ "$mode" = tsan ]; then tsan_tbb; fi

cmake --preset "$preset" >&2

# Which tests. ctest names the gtest cases Suite.Name, so test executables are matched through
# ctest's JSON listing (tests/sanitizers/select_tests.cmake), made into an exact-name regex.
exes=()
labels=()
if [ -n "$regex" ]; then
    what="ctest -R $regex"
    # With --exe too, only those executables are built (the regex still selects the tests).
    [ -n "$exe_list" ] && IFS=',' read -r -a exes <<<"$exe_list"
elif [ -n "$exe_list" ]; then
    IFS=',' read -r -a exes <<<"$exe_list"
    what="tests of ${exes[*]}"
else
    case "$mode" in
        tsan)
            exes=(test_kernels_core test_resample_noise test_convolve test_edges test_noise_pca
                test_effective_resolution test_synth test_batch test_batch_inputs test_batch_mpi)
            what="kernel and batch tests"
            ;;
        asan)
            if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^test_hostile_corpus:'; then
                exes=(test_hostile_corpus)
                labels=(hostile)
                what="the hostile-input corpus"
            else
                exes=(test_output_paths test_cli_exit_codes test_raster test_progress_interrupt)
                what="no hostile-input corpus yet: output-path, exit-code, raster and interrupt tests"
            fi
            ;;
    esac
fi
if [ "$fast" = 1 ]; then
    labels+=(fast)
    what="$what + tests labelled fast"
fi

# Only the chosen test executables (and the satiq binary the CLI tests run) unless a label, or a
# regex without --exe, may pick tests of any executable.
if [ "${#exes[@]}" -gt 0 ] && [ "$fast" = 0 ]; then
    cmake --build --preset "$preset" -j "$jobs" --target "${exes[@]}" satiq >&2
else
    cmake --build --preset "$preset" -j "$jobs" >&2
fi
built=$(date +%s)

logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
supp=$root/tests/sanitizers
case "$mode" in
    tsan)
        # halt_on_error: the first race ends the process (exit 66), so the test fails.
        export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$supp/tsan.supp log_path=$logs/tsan"
        ;;
    asan)
        export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
        export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
        ;;
esac

select=(-R "$regex")
if [ -z "$regex" ]; then
    ctest --test-dir "$build" --show-only=json-v1 >"$logs/tests.json"
    cmake "-DJSON=$logs/tests.json" "-DEXES=$(IFS=';'; echo "${exes[*]}")" \
        "-DLABELS=$(IFS=';'; echo "${labels[*]}")" "-DOUT=$logs/regex.txt" -P "$supp/select_tests.cmake"
    if [ ! -s "$logs/regex.txt" ]; then
        echo "sanitize: no test matches ($what)" >&2
        exit 1
    fi
    select=(-R "$(cat "$logs/regex.txt")")
fi

echo "sanitize: $mode ($preset preset): $what" >&2
rc=0
ctest --test-dir "$build" -j "$jobs" --timeout "$timeout" --output-on-failure "${select[@]}" || rc=$?
end=$(date +%s)

reports=$(find "$logs" -type f \( -name 'tsan.*' -o -name 'asan.*' -o -name 'ubsan.*' \) | sort)
if [ -n "$reports" ]; then
    echo "sanitize: $(echo "$reports" | wc -l) process(es) wrote sanitizer reports:" >&2
    for f in $reports; do
        echo "---- $f" >&2
        cat "$f" >&2
    done
    rc=1
fi
echo "sanitize: $mode: build $((built - start)) s, tests $((end - built)) s; $([ $rc = 0 ] && echo clean || echo FAILED)" >&2
exit $rc
