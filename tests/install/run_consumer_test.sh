#!/usr/bin/env bash
# Install test (ctest Install.FindPackageConsumer): installs the satiq build BUILD_DIR into a
# temporary prefix, builds tests/install/consumer against it with find_package(satiq), runs the
# consumer and checks its output. Needs satiq_kernels, satiq_pipeline and satiq built in BUILD_DIR.
#   usage: tests/install/run_consumer_test.sh BUILD_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/satiq-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "Install.FindPackageConsumer: FAIL: $*" >&2
    exit 1
}

echo "-- installing $build_dir into $tmp/prefix"
cmake --install "$build_dir" --prefix "$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in lib/cmake/satiq/satiqConfig.cmake lib/cmake/satiq/satiqConfigVersion.cmake lib/cmake/satiq/satiqTargets.cmake \
         include/satiq/version.hpp include/satiq/kernels/statistics.hpp include/satiq/pipeline/model/predict.hpp; do
    [[ -f "$tmp/prefix/$f" ]] || fail "not installed: $f"
done
# The private warnings target and -march=native must not reach the export.
if grep -rqE 'satiq_warnings|march=native' "$tmp/prefix/lib/cmake/satiq"; then
    fail "the export names satiq_warnings or -march=native"
fi

echo "-- configuring the consumer"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
cmake -S "$here/consumer" -B "$tmp/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE="${build_type:-Release}" || fail "configuring the consumer"
echo "-- building the consumer"
cmake --build "$tmp/consumer-build" -j1 || fail "building the consumer"

echo "-- running the consumer"
out=$("$tmp/consumer-build/satiq_consumer") || { echo "$out"; fail "the consumer exited non-zero"; }
echo "$out"

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
expect() {
    grep -qxE "$1" <<< "$out" || fail "expected a line matching '$1'"
}
[[ -n "$version" ]] && expect "version ${version//./\\.} [0-9]+\.[0-9]+\.[0-9]+"
expect 'version [0-9]+\.[0-9]+\.[0-9]+ [0-9]+\.[0-9]+\.[0-9]+'
expect 'stats count=16 min=0 max=15 mean=7\.5'
expect 'gsd 0\.5 0\.75'
expect 'preset [^ ]+ niirs [0-9]+\.[0-9]+'
expect 'niirs_in_range yes'
echo "Install.FindPackageConsumer: PASS"
