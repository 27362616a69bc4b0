#!/usr/bin/env bash
# GPU validation check for wattprint, for a machine with an NVIDIA GPU, CMake, g++, PyTorch and torchvision,
# and no network. It:
#   1. builds wattprint into build-gpu/ (no tests, no benchmarks); if CMake cannot find CLI11,
#      nlohmann_json, fmt or tomlplusplus it says which and exits 3 (it never downloads anything);
#   2. trains torchvision's resnet50 (weights=None) with mixed precision (torch.autocast + GradScaler) on
#      synthetic ImageNet-sized data (random 3x224x224 images, 1000 classes, batch 64) for 3 "epochs" of
#      STEPS steps, each epoch its own `wattprint run --interval 1 --json epoch-N.json -- python3 train.py`;
#   3. meanwhile logs the GPU's power with `nvidia-smi ... -lms 1000` (if nvidia-smi exists);
#   4. prints per epoch: the gpu method's energy (the counter), the study's 5-s sampling figure (from the
#      report's methods.gpu.assumptions), the 1-s integration of the nvidia-smi log over the epoch's window,
#      the card and the date.
# Usage: scripts/gpu-check.sh [OUT_DIR]   (default: a new directory under /tmp; reports and logs stay there)
# Environment: STEPS (steps per epoch, default 200: ~5-10 s of training
#              on an A100/H100; lower it on small cards, e.g. STEPS=60 on a T4), EPOCHS (default 3), GPU_INDEX (default 0, PCI bus
#              order, as nvidia-smi numbers them), TOTAL_LIMIT_S (whole check, default 290), JOBS (build
#              parallelism, default nproc), PYTHON (default python3).
# Exit status: 0 done; 2 usage; 3 build dependencies missing; 4 no usable GPU / PyTorch; 5 build failed;
#              6 an epoch failed; 124 the time limit was reached.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${STEPS:-200}
EPOCHS=${EPOCHS:-3}
GPU_INDEX=${GPU_INDEX:-0}
TOTAL_LIMIT_S=${TOTAL_LIMIT_S:-290}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-python3}
BUILD_DIR="$REPO/build-gpu"

say() { printf '== %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'gpu-check: %s\n' "$*" >&2
  exit "$code"
}

for value in "$STEPS" "$EPOCHS" "$GPU_INDEX" "$TOTAL_LIMIT_S" "$JOBS"; do
  [[ "$value" =~ ^[0-9]+$ ]] || die 2 "STEPS, EPOCHS, GPU_INDEX, TOTAL_LIMIT_S and JOBS must be whole numbers (got '$value')"
done
[ "$#" -le 1 ] || die 2 "usage: $0 [OUT_DIR]"

if [ "$#" -eq 1 ]; then
  OUT=$1
  mkdir -p "$OUT"
else
  OUT=$(mktemp -d /tmp/wattprint-gpu-check.XXXXXX)
fi
OUT=$(cd "$OUT" && pwd)

START_S=$(date +%s)
DEADLINE_S=$((START_S + TOTAL_LIMIT_S))
# Seconds left before the deadline (at least 1, so that `timeout` always gets a valid duration).
remaining() {
  local left=$((DEADLINE_S - $(date +%s)))
  [ "$left" -ge 1 ] || left=1
  echo "$left"
}
# Runs a command with what is left of the time limit; exits 124 if the limit is reached.
limited() {
  local status=0
  timeout --kill-after=10 "$(remaining)" "$@" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    die 124 "time limit of ${TOTAL_LIMIT_S} s reached during: $*"
  fi
  return "$status"
}

SMI_PID=""
cleanup() {
  if [ -n "$SMI_PID" ]; then
    kill "$SMI_PID" 2>/dev/null || true
    wait "$SMI_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

say "output directory: $OUT"

# --- 0. tools ---------------------------------------------------------------------------------------------
for tool in cmake g++ timeout "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || die 4 "'$tool' not found on PATH"
done

# --- 1. build ---------------------------------------------------------------------------------------------
# Which of the libraries the build needs can CMake find? A throw-away project asks for each one (QUIET), so
# that every missing one is named, not only the first.
say "checking the build dependencies"
PROBE="$OUT/cmake-probe"
mkdir -p "$PROBE/src"
cat >"$PROBE/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(wattprint_dependency_probe LANGUAGES CXX)
foreach(package CLI11 nlohmann_json fmt tomlplusplus)
  find_package(${package} QUIET)
  if(${package}_FOUND)
    message(STATUS "probe: found ${package}")
  else()
    message(STATUS "probe: missing ${package}")
  endif()
endforeach()
EOF
if ! limited cmake -S "$PROBE/src" -B "$PROBE/build" >"$PROBE/probe.log" 2>&1; then
  cat "$PROBE/probe.log" >&2
  die 5 "CMake could not configure even an empty C++ project (see above): is g++ installed?"
fi
mapfile -t MISSING < <(sed -n 's/^-- probe: missing //p' "$PROBE/probe.log")
if [ "${#MISSING[@]}" -gt 0 ]; then
  {
    echo "gpu-check: CMake cannot find: ${MISSING[*]}"
    echo "  (Debian/Ubuntu packages: CLI11 libcli11-dev, nlohmann_json nlohmann-json3-dev, fmt libfmt-dev,"
    echo "   tomlplusplus libtomlplusplus-dev; or point CMAKE_PREFIX_PATH at local installs). Nothing is"
    echo "   downloaded by this script."
  } >&2
  exit 3
fi

say "building wattprint in $BUILD_DIR"
if ! limited cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
  -DWATTPRINT_BUILD_TESTS=OFF -DWATTPRINT_BUILD_BENCH=OFF >"$OUT/cmake-configure.log" 2>&1; then
  cat "$OUT/cmake-configure.log" >&2
  for package in CLI11 nlohmann_json fmt tomlplusplus; do
    if grep -q "\"$package\"" "$OUT/cmake-configure.log"; then
      die 3 "CMake cannot find $package (see above); nothing is downloaded by this script"
    fi
  done
  die 5 "CMake configuration failed (see above and $OUT/cmake-configure.log)"
fi
if ! limited cmake --build "$BUILD_DIR" --target wattprint -j "$JOBS" >"$OUT/cmake-build.log" 2>&1; then
  tail -n 40 "$OUT/cmake-build.log" >&2
  die 5 "build failed (full log: $OUT/cmake-build.log)"
fi
WATTPRINT="$BUILD_DIR/src/wattprint"
[ -x "$WATTPRINT" ] || die 5 "built, but $WATTPRINT is missing"
say "built $WATTPRINT ($(($(date +%s) - START_S)) s so far)"

# --- 2. PyTorch and the GPU ------------------------------------------------------------------------------
# PCI bus order, so that CUDA's device GPU_INDEX is nvidia-smi's (and NVML's) GPU GPU_INDEX.
export CUDA_DEVICE_ORDER=PCI_BUS_ID
export CUDA_VISIBLE_DEVICES=$GPU_INDEX
if ! limited "$PYTHON" -c 'import torch, torchvision, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  >"$OUT/torch-check.log" 2>&1; then
  cat "$OUT/torch-check.log" >&2
  die 4 "PyTorch/torchvision cannot be imported or sees no CUDA GPU (CUDA_VISIBLE_DEVICES=$GPU_INDEX)"
fi

TRAIN="$OUT/train.py"
cat >"$TRAIN" <<'EOF'
"""One 'epoch' of resnet50 training with mixed precision on synthetic ImageNet-sized data."""
import argparse
import time

import torch
import torchvision

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, required=True)
parser.add_argument("--batch", type=int, default=64)
args = parser.parse_args()

torch.manual_seed(0)
device = torch.device("cuda")
torch.backends.cudnn.benchmark = True
model = torchvision.models.resnet50(weights=None, num_classes=1000).to(device)
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()
scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()
# A fixed pool of synthetic batches on the GPU (no data loading in the measurement).
images = torch.randn(4, args.batch, 3, 224, 224, device=device)
labels = torch.randint(0, 1000, (4, args.batch), device=device)

torch.cuda.synchronize()
start = time.perf_counter()
for step in range(args.steps):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type="cuda", dtype=torch.float16):
        loss = loss_fn(model(images[step % 4]), labels[step % 4])
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
torch.cuda.synchronize()
seconds = time.perf_counter() - start
print(f"train.py: {args.steps} steps of {args.batch} in {seconds:.1f} s "
      f"({args.steps * args.batch / seconds:.0f} images/s), last loss {loss.item():.3f}, "
      f"GPU {torch.cuda.get_device_name(0)}")
EOF

# --- 3. power log -----------------------------------------------------------------------------------------
POWER_LOG="$OUT/nvidia-smi-power.csv"
if command -v nvidia-smi >/dev/null 2>&1; then
  say "logging power of GPU $GPU_INDEX with nvidia-smi every 1000 ms into $POWER_LOG"
  # TZ=UTC: nvidia-smi prints local time; UTC matches the reports' started_at.
  TZ=UTC nvidia-smi -i "$GPU_INDEX" --query-gpu=timestamp,power.draw --format=csv,noheader,nounits -lms 1000 \
    >"$POWER_LOG" 2>"$OUT/nvidia-smi.err" &
  SMI_PID=$!
  sleep 2 # a sample or two before the first epoch
else
  say "nvidia-smi not found: no independent power log (the nvidia-smi column will say n/a)"
  : >"$POWER_LOG"
fi

# --- 4. epochs --------------------------------------------------------------------------------------------
LAUNCHES="$OUT/launches.tsv" # epoch, wall-clock seconds just before wattprint started (refines started_at)
: >"$LAUNCHES"
for epoch in $(seq 1 "$EPOCHS"); do
  say "epoch $epoch/$EPOCHS: $STEPS steps ($(remaining) s left)"
  printf '%s\t%s\n' "$epoch" "$(date +%s.%N)" >>"$LAUNCHES"
  status=0
  limited "$WATTPRINT" run --interval 1 --json "$OUT/epoch-$epoch.json" -- \
    "$PYTHON" "$TRAIN" --steps "$STEPS" >"$OUT/epoch-$epoch.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 30 "$OUT/epoch-$epoch.log" >&2
    die 6 "epoch $epoch failed (exit $status; log: $OUT/epoch-$epoch.log)"
  fi
  grep '^train.py:' "$OUT/epoch-$epoch.log" >&2 || true
done
sleep 2 # let nvidia-smi log past the last epoch's end
cleanup
SMI_PID=""

# --- 5. summary -------------------------------------------------------------------------------------------
say "summary ($(($(date +%s) - START_S)) s in all)"
"$PYTHON" - "$OUT" "$EPOCHS" "$GPU_INDEX" <<'EOF'
"""Per epoch: wattprint's gpu method (counter), its 5-s sampling figure, nvidia-smi's 1-s log integrated."""
import datetime as dt
import json
import os
import sys

out, epochs, gpu_index = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def utc_seconds(text, fmt):
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc).timestamp()


# nvidia-smi log: "2025/01/31 12:00:00.123, 250.12" (UTC, see TZ=UTC above); [N/A] lines skipped.
samples = []
log_path = os.path.join(out, "nvidia-smi-power.csv")
if os.path.exists(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2:
                continue
            try:
                samples.append((utc_seconds(parts[0], "%Y/%m/%d %H:%M:%S.%f"), float(parts[1])))
            except ValueError:
                continue
samples.sort()

launches = {}
launch_path = os.path.join(out, "launches.tsv")
if os.path.exists(launch_path):
    with open(launch_path, encoding="utf-8") as f:
        for line in f:
            epoch, at = line.split()
            launches[int(epoch)] = float(at)


def integrate(t0, t1):
    """Energy (J) of the 1-s power log over [t0, t1], each reading held until the next; None if not covered."""
    if len(samples) < 2 or samples[0][0] > t0 or samples[-1][0] < t1:
        return None
    energy = 0.0
    for (ta, watts), (tb, _) in zip(samples, samples[1:]):
        lo, hi = max(ta, t0), min(tb, t1)
        if hi > lo:
            energy += watts * (hi - lo)
    return energy


def fmt_j(value):
    return "n/a" if value is None else f"{value:.1f}"


rows = []
for epoch in range(1, epochs + 1):
    with open(os.path.join(out, f"epoch-{epoch}.json"), encoding="utf-8") as f:
        report = json.load(f)
    gpu = report["methods"]["gpu"]
    counter = gpu["it_energy_j"] if gpu.get("available") else None
    sampled = None
    for key, value in (gpu.get("assumptions") or {}).items():
        if key.startswith("power sampled every 5 s"):
            sampled = value.split(" J")[0]
    # started_at has 1-s resolution: use the launch time this script recorded when it lies within that second.
    start = utc_seconds(report["started_at"], "%Y-%m-%dT%H:%M:%SZ")
    launch = launches.get(epoch)
    if launch is not None and start <= launch < start + 1:
        start = launch
    duration = report["duration_s"]
    smi = integrate(start, start + duration)
    card = next((g.get("model") for g in report.get("gpus", []) if g.get("in_run")), None)
    card = card or next((g.get("model") for g in report.get("gpus", [])), None) or "unknown"
    rows.append((epoch, duration, fmt_j(counter), sampled or "n/a", fmt_j(smi), card, report["started_at"]))
    if not gpu.get("available"):
        print(f"epoch {epoch}: gpu method unavailable: {gpu.get('reason')}", file=sys.stderr)

header = ("epoch", "duration_s", "gpu method (counter) J", "5-s sampling J", "nvidia-smi 1-s J", "card", "date (UTC)")
table = [header] + [tuple(str(c) if not isinstance(c, float) else f"{c:.1f}" for c in row) for row in rows]
widths = [max(len(r[i]) for r in table) for i in range(len(header))]
print(f"# GPU {gpu_index}; reports and logs in {out}")
print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for row in table[1:]:
    print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
if not samples:
    print("(no nvidia-smi power log: the nvidia-smi column is n/a)")
EOF
