#!/usr/bin/env bash
# The monitor's own cost during `wattprint run`, at 1 s, 100 ms and 1 ms intervals, against a live fake
# powercap tree (2 sockets, 6 counters).
#
#   bench/monitor_overhead.sh BUILD_DIR [OUT_DIR]
#
# BUILD_DIR must hold src/wattprint and bench/wattprint_live_fake_tree (this script builds nothing).
# Each interval runs `wattprint run --interval I --sysfs-root TREE --json F -- sleep D` for a short and a
# long D, REPEATS times, interleaved (repeat, then interval, then duration) so that drifting machine load
# hits every case alike. wattprint reports its own CPU time (getrusage, start-up included) and peak RSS;
#   steady-state cost = (median cpu_s(long) − median cpu_s(short)) / (median duration(long) − median duration(short))
#   start-up CPU      = median cpu_s(short) − steady-state cost × median duration(short)
#   per tick          = steady-state cost × counter period (every tick reads the counters; at these intervals
#                       every tick also samples the process tree and the machine)
# peak_MB is the largest monitor.peak_rss_bytes of the interval's runs, in MiB (2^20 bytes).
# Defaults: SHORT=2 LONG=20 REPEATS=3 INTERVALS="1 0.1 0.001", about 3.5 minutes. Needs jq and awk.
# TREE_SIZE=N (default 0) measures a bigger tree: the command becomes
#   sh -c 'for i in $(seq N); do sleep D & done; wait'   (N + 1 processes)
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
wattprint="$build/src/wattprint"
live_tree="$build/bench/wattprint_live_fake_tree"
short=${SHORT:-2}
long=${LONG:-20}
repeats=${REPEATS:-3}
read -r -a intervals <<<"${INTERVALS:-1 0.1 0.001}"
tree_size=${TREE_SIZE:-0}
for tool in "$wattprint" "$live_tree"; do
  [[ -x $tool ]] || { echo "$0: $tool is missing; build first" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "$0: needs jq (apt-get install jq)" >&2; exit 2; }

out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/wattprint-overhead-XXXXXX")}
mkdir -p "$out"
link="$out/sysfs"
rm -f "$link"

"$live_tree" "$link" >"$out/live_tree.root" &
tree_pid=$!
cleanup() {
  if kill -TERM "$tree_pid" 2>/dev/null; then wait "$tree_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s $out/live_tree.root ]] && break; sleep 0.05; done
[[ -s $out/live_tree.root ]] || { echo "$0: the live fake tree did not start" >&2; exit 1; }

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# runs: sleep $short s and sleep $long s, $repeats times each, per interval, tree of $((tree_size + 1)) processes; reports in $out"

# results.tsv: interval duration repeat duration_s cpu_s peak_rss_bytes counter_period_s
results="$out/results.tsv"
: >"$results"
for r in $(seq "$repeats"); do
  for interval in "${intervals[@]}"; do
    for d in "$short" "$long"; do
      json="$out/run-i${interval}-d${d}-r${r}.json"
      if ((tree_size > 0)); then
        cmd=(sh -c "for i in \$(seq $tree_size); do sleep $d & done; wait")
      else
        cmd=(sleep "$d")
      fi
      "$wattprint" run --interval "$interval" --sysfs-root "$link" --json "$json" -- "${cmd[@]}" 2>"$json.log"
      jq -r --arg i "$interval" --arg d "$d" --arg r "$r" \
        '[$i, $d, $r, .duration_s, .monitor.cpu_s, .monitor.peak_rss_bytes, .sampling.counter_period_s] | @tsv' \
        "$json" >>"$results"
    done
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

awk -v short="$short" -v long="$long" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    key = $1 SUBSEP $2
    dur[key] = dur[key] " " $4; cpu[key] = cpu[key] " " $5
    if ($6 > rss[$1]) rss[$1] = $6
    period[$1] = $7
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
  }
  END {
    printf "%-10s %8s %14s %12s %12s %12s %14s %12s %10s %s\n", "interval_s", "period_s", "cpu_short_ms", "cpu_long_ms",
           "steady_%core", "per_tick_us", "target_%core", "startup_ms", "peak_MB", "verdict"
    for (k = 1; k <= n; k++) {
      i = order[k]
      cs = median(cpu[i SUBSEP short]); cl = median(cpu[i SUBSEP long])
      ds = median(dur[i SUBSEP short]); dl = median(dur[i SUBSEP long])
      slope = (cl - cs) / (dl - ds)
      startup = cs - slope * ds
      target = i + 0 >= 1 ? 0.1 : (i + 0 >= 0.1 ? 1 : -1)
      mb = rss[i] / 1048576
      verdict = ""
      if (target > 0) verdict = (100 * slope < target ? "cpu ok" : "cpu MISSED")
      else verdict = "cpu (no target)"
      verdict = verdict (rss[i] < 16e6 ? ", mem ok" : ", mem MISSED")  # target: 16 MB = 16e6 bytes
      tstr = "-"
      if (target > 0) tstr = "< " target
      printf "%-10s %8s %14.2f %12.2f %12.4f %12.1f %14s %12.2f %10.2f %s\n", i, period[i], 1000 * cs, 1000 * cl,
             100 * slope, 1e6 * slope * period[i], tstr, 1000 * startup, mb, verdict
    }
  }' "$results" | tee "$out/summary.txt"
