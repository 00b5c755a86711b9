#!/usr/bin/env bash
# The GPU figures of `make bench` (the CIFAR ResNet overhead row and speed_options_gpu) in one call of a CUDA
# machine that has python3 with torch and Lightning but no network, such as the device machine lent to some
# sessions. There, only hydra-core, omegaconf and antlr4 are missing: `make device-kit` puts their wheels in
# .whl/ here first; then, from the repository root there, with .whl carried:
#     bash bench/on_device.sh
# It copies bench/results.json and the table to $OUT after each benchmark, so a run cut short still brings
# back what it finished. TRAIN_ARGS / OVERHEAD_ARGS / SPEED_ARGS add arguments to its three steps;
# DLX_DEVICE_CPU_OK=1 lets it run without a GPU (tests/test_bench.py runs the script itself, small, here).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
out=${OUT:-bench/device-out}
site=${DLX_DEVICE_SITE:-/tmp/dlx-site}
mkdir -p "$out"

if ! ls .whl/*.whl >/dev/null 2>&1; then
  echo "on_device.sh: no wheels in .whl/: run make device-kit on a machine with network, and carry .whl" >&2
  exit 2
fi
$py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1

# prints gpu or cpu (the trainer option), the versions on stderr; no GPU is an error unless DLX_DEVICE_CPU_OK=1
trainer=$($py -c '
import os, sys, torch, lightning
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, lightning {lightning.__version__}, gpu {gpu}",
      file=sys.stderr)
if gpu is None and os.environ.get("DLX_DEVICE_CPU_OK") != "1":
    sys.exit("on_device.sh: torch sees no CUDA GPU here, so there are no GPU figures to measure")
print("gpu" if gpu else "cpu")
')

save() {
  cp "${DLX_BENCH_RESULTS:-bench/results.json}" "$out/results.json"
  $py bench/table.py >"$out/table.md"
}
# one default dlx run through the CLI first (trainer=gpu on a GPU), into a runs/ of its own
# shellcheck disable=SC2086  # the *_ARGS are word lists
$py -m dlx train "trainer=$trainer" "runs_dir=${TMPDIR:-/tmp}/dlx-device-runs" ${TRAIN_ARGS:-}
# shellcheck disable=SC2086
$py bench/train_overhead.py --cases "cifar resnet" ${OVERHEAD_ARGS:-}
save
# shellcheck disable=SC2086
$py bench/speed_options.py ${SPEED_ARGS:-}
save
cat "$out/table.md"
