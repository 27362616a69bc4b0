#!/usr/bin/env bash
# wattprint developer script: installs what the build needs (Debian 12), builds, and runs the demo or the tests.
#   ./build.sh demo   install, build, and run `wattprint run` on the built-in demo workload
#   ./build.sh test   install, build with ASan+UBSan (warnings fatal), run the whole test suite, then the
#                     format and clang-tidy checks, then the libFuzzer targets for a short while (what CI
#                     runs: .ci/run)
#   ./build.sh build  install and build only
# Environment: BUILD_DIR (default build), JOBS (default nproc), SKIP_INSTALL=1 to skip apt-get,
#              SKIP_SANITIZERS=1 / SKIP_TIDY=1 / SKIP_FUZZ=1 to shorten a local test run, FUZZ_SECONDS
#              (default 15) per fuzz target, TIDY_ALL=1 to run clang-tidy on every source (by default those
#              already found clean in the same state are skipped).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

# Debian 12 packages the build and the tests use.
BUILD_PACKAGES="build-essential cmake ninja-build pkg-config git libcli11-dev nlohmann-json3-dev libfmt-dev
  libtomlplusplus-dev libfreeipmi-dev libcurl4-openssl-dev libsqlite3-dev libcpp-httplib-dev"
# The tests also start a real IPMI simulator (openipmi's ipmi_sim, with a DCMI module built against
# libopenipmi-dev) and a local HTTPS Redfish server (python3, with a certificate made by openssl). The HTML
# report is checked in headless chromium; the Python tests train a tiny CNN with python3-torch (CPU). A real
# Prometheus server scrapes `wattprint exporter`; a real one-node Slurm cluster (slurm-wlm, munge: started by
# tests/cluster/slurm_cluster.sh) runs `srun wattprint run`.
TEST_PACKAGES="libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy util-linux procps
  openipmi libopenipmi-dev ipmitool python3 openssl python3-torch chromium prometheus slurm-wlm munge
  clang libclang-rt-14-dev"
# clang and libclang-rt-14-dev (libFuzzer, the sanitizer runtimes): the fuzz targets of fuzz/ (fuzz/README.md).

say() { printf '\n== %s\n' "$*" >&2; }

install_packages() {
  [ "${SKIP_INSTALL:-0}" = 1 ] && return 0
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "build.sh: missing packages: ${missing[*]}" >&2
    echo "build.sh: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_and_build() {  # $1 build dir, rest: extra cmake arguments
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DWATTPRINT_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

TOTAL_PASSED=0
TOTAL_FAILED=0
run_tests() {  # $1 build dir; adds ctest's counts to TOTAL_PASSED / TOTAL_FAILED
  local log status=0
  log=$(mktemp)
  ctest --test-dir "$1" --output-on-failure -j "$JOBS" --timeout 300 2>&1 | tee "$log" || status=$?
  local summary total failed
  summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  rm -f "$log"
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  if [ -z "$summary" ] || [ "$total" = 0 ]; then
    echo "build.sh: no test ran in $1" >&2
    exit 1
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + total - failed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  if [ "$status" != 0 ] || [ "$failed" != 0 ]; then
    echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
    exit 1
  fi
}

check_format() {
  say "clang-format check"
  git ls-files '*.cpp' '*.hpp' '*.h' | xargs clang-format --dry-run --Werror
}

check_tidy() {  # $1 a directory for the compile database, rest: the test build's cmake arguments
  say "clang-tidy check"
  # clang-tidy reads a compile database configured like the test build but without precompiled headers:
  # forced into every source, they would slow clang-tidy down and hide a missing #include. Configuring only
  # takes seconds; nothing is compiled there. Sources whose text, project headers, flags and .clang-tidy are
  # exactly as when a check found them clean are skipped (tools/clang-tidy-cached.py; TIDY_ALL=1: all).
  local tidy_dir=$1
  shift
  cmake -S . -B "$tidy_dir" -G Ninja -DWATTPRINT_WERROR=ON -DWATTPRINT_PCH=OFF "$@" >/dev/null
  local all=()
  [ "${TIDY_ALL:-0}" = 1 ] && all=(--all)
  if ! /usr/bin/python3 tools/clang-tidy-cached.py -p "$tidy_dir" --jobs "$JOBS" "${all[@]}"; then
    echo "build.sh: clang-tidy found problems (see above)" >&2
    exit 1
  fi
}

run_fuzzers() {  # $1 a build directory for the clang fuzz build
  local seconds=${FUZZ_SECONDS:-15}
  say "fuzz (libFuzzer, $seconds s per target)"
  # Only the fuzz targets and the parser sources they link are compiled (not wattprint_core): see
  # fuzz/CMakeLists.txt. Debug, not optimised beyond the fuzzer's -O1: assertions stay on.
  cmake -S . -B "$1" -G Ninja -DWATTPRINT_WERROR=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER=clang -DWATTPRINT_FUZZ=ON -DWATTPRINT_BUILD_TESTS=OFF -DWATTPRINT_BUILD_BENCH=OFF >/dev/null
  cmake --build "$1" -j "$JOBS" --target fuzz_targets
  FUZZ_JOBS=$JOBS fuzz/run_fuzzers.sh "$1" "$seconds"
}

case "${1:-}" in
  demo)
    install_packages $BUILD_PACKAGES
    configure_and_build "$BUILD_DIR" -DWATTPRINT_BUILD_TESTS=OFF -DWATTPRINT_BUILD_BENCH=OFF
    # The demo keeps its own run history, so that its two runs are IDs 1 and 2 whatever ran before.
    demo_store="$BUILD_DIR/demo-runs.db"
    rm -f "$demo_store" "$demo_store-wal" "$demo_store-shm"
    say "wattprint run on the built-in demo (3 epochs of busy threads, 6 s)"
    "$BUILD_DIR/src/wattprint" run --pue 1.65 --country FR --mark-regex 'Epoch (\d+)' \
      --store "$demo_store" --tag threads=2 \
      --json "$BUILD_DIR/demo-report.json" --html "$BUILD_DIR/demo-report.html" --csv "$BUILD_DIR/demo-samples.csv" -- \
      "$BUILD_DIR/src/wattprint" demo --seconds 6 --epochs 3 --threads 2
    say "the same demo on 1 thread, then both side by side (wattprint compare)"
    "$BUILD_DIR/src/wattprint" run --pue 1.65 --country FR --mark-regex 'Epoch (\d+)' \
      --store "$demo_store" --tag threads=1 -- "$BUILD_DIR/src/wattprint" demo --seconds 6 --epochs 3 --threads 1 \
      2>/dev/null
    "$BUILD_DIR/src/wattprint" runs --store "$demo_store"
    "$BUILD_DIR/src/wattprint" compare 1 2 --by epoch --store "$demo_store" --html "$BUILD_DIR/demo-compare.html"
    ;;
  build)
    install_packages $BUILD_PACKAGES
    configure_and_build "$BUILD_DIR" -DWATTPRINT_BUILD_TESTS=OFF -DWATTPRINT_BUILD_BENCH=OFF
    ;;
  test)
    install_packages $BUILD_PACKAGES $TEST_PACKAGES
    # The IPMI simulator and the HTTPS Redfish server were just installed: their tests must run, not skip.
    export WATTPRINT_REQUIRE_SIMULATORS=1
    # One build, to keep CI well under 40 minutes on two cores: the tests and the benchmarks compiled with
    # warnings fatal and AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite run under them.
    # (`./build.sh demo` and `build` compile the optimised executable with warnings fatal too.)
    # SKIP_SANITIZERS=1: an optimised build instead, for a quicker local run.
    if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
      say "build and test with AddressSanitizer + UndefinedBehaviorSanitizer (warnings fatal)"
      test_dir="$BUILD_DIR-asan"
      test_args=(-DCMAKE_BUILD_TYPE=Debug -DWATTPRINT_SANITIZE=ON -DWATTPRINT_BUILD_TESTS=ON -DWATTPRINT_BUILD_BENCH=ON)
      configure_and_build "$test_dir" "${test_args[@]}" -DWATTPRINT_PCH=ON
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests "$test_dir"
    else
      say "build and test (RelWithDebInfo, warnings fatal)"
      # Tests and benchmarks on explicitly: a build directory left by `demo` has them off in its cache.
      test_dir="$BUILD_DIR"
      test_args=(-DWATTPRINT_BUILD_TESTS=ON -DWATTPRINT_BUILD_BENCH=ON)
      configure_and_build "$test_dir" "${test_args[@]}"
      run_tests "$test_dir"
    fi
    check_format
    [ "${SKIP_TIDY:-0}" = 1 ] || check_tidy "$test_dir-tidy" "${test_args[@]}"
    [ "${SKIP_FUZZ:-0}" = 1 ] || run_fuzzers "$BUILD_DIR-fuzz"
    say "all checks passed"
    echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
