#!/usr/bin/env bash
# fuzz/run_fuzzers.sh BUILD_DIR SECONDS [NAME...]: runs each libFuzzer target built in BUILD_DIR
# (cmake -DWATTPRINT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++, target fuzz_targets) for SECONDS, starting from a
# copy of fuzz/corpus/NAME and fuzz/regressions/NAME in a temporary directory (the repository is never
# modified), with fuzz/dictionaries/NAME.dict when there is one. One line per target; on a crash, the input
# is kept in BUILD_DIR/fuzz-findings, its path and the command that reproduces it are printed, and the
# script exits 1.
# Environment: FUZZ_JOBS (default 1) targets at a time; FUZZ_KEEP=1 keeps the temporary directory.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
shift 2
fuzz_dir=$(cd "$(dirname "$0")" && pwd)

if [ $# -gt 0 ]; then
  names=("$@")
else
  mapfile -t names < <(find "$build_dir/fuzz" -maxdepth 1 -type f -name '*_fuzzer' -perm -u+x -printf '%f\n' |
    sed 's/_fuzzer$//' | sort)
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "run_fuzzers.sh: no fuzz target in $build_dir/fuzz (build the target fuzz_targets first)" >&2
  exit 2
fi

findings="$build_dir/fuzz-findings"
work=$(mktemp -d "${TMPDIR:-/tmp}/wattprint-fuzz.XXXXXX")
[ "${FUZZ_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {  # $1 target name; prints one line; returns 1 on a finding
  local name=$1 binary="$build_dir/fuzz/$1_fuzzer"
  if [ ! -x "$binary" ]; then
    printf '%-14s FAILED  no executable %s (build the target fuzz_targets)\n' "$name" "$binary"
    return 1
  fi
  local corpus="$work/$name/corpus" artifacts="$work/$name/artifacts/" log="$work/$name/log"
  mkdir -p "$corpus" "$artifacts"
  for seeds in "$fuzz_dir/corpus/$name" "$fuzz_dir/regressions/$name"; do
    [ -d "$seeds" ] && find "$seeds" -maxdepth 1 -type f ! -name 'README*' -exec cp {} "$corpus/" \;
  done
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$artifacts")
  [ -f "$fuzz_dir/dictionaries/$name.dict" ] && options+=(-dict="$fuzz_dir/dictionaries/$name.dict")
  local status=0
  "$binary" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?
  local runs edges
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  edges=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //' || true)
  if [ "$status" = 0 ]; then
    printf '%-14s ok      %ss, %s runs, %s edges, corpus %s files\n' "$name" "$seconds" "${runs:-?}" "${edges:-?}" \
      "$(find "$corpus" -type f | wc -l)"
    return 0
  fi
  local input
  input=$(find "$artifacts" -type f | head -n 1)
  printf '%-14s FAILED  (exit %s) %s\n' "$name" "$status" \
    "$(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|SUMMARY:' "$log" || true)"
  if [ -n "$input" ]; then
    mkdir -p "$findings"
    cp "$input" "$findings/"
    local kept
    kept="$findings/$(basename "$input")"
    echo "    input: $kept"
    echo "    reproduce: $binary $kept"
    echo "    then: fix the parser, and add the input as fuzz/regressions/$name/<what it broke>"
  fi
  echo "    log (last lines):"
  tail -n 25 "$log" | sed 's/^/      /'
  return 1
}

failed=0
if [ "${FUZZ_JOBS:-1}" -le 1 ]; then
  for name in "${names[@]}"; do run_one "$name" || failed=1; done
else
  pids=()
  for name in "${names[@]}"; do
    run_one "$name" >"$work/$name.line" 2>&1 &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n || true; done
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  for name in "${names[@]}"; do
    cat "$work/$name.line"
    grep -q FAILED "$work/$name.line" && failed=1
  done
fi
exit "$failed"
