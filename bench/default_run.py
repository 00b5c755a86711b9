"""Whole-process cost of what a user types: start-up paths, the default `dlx train`, and its peak memory.

    .venv/bin/python bench/default_run.py        (or: make bench)

Runs the installed `dlx` in a fresh empty directory. Targets (2 CPU cores): `dlx --help` < 0.5 s,
`dlx train --cfg job` < 1.5 s, `dlx list` < 1.5 s; the default `dlx train` reaches >= 0.99 test accuracy
on digits in < 30 s whole process; its peak RSS at most 1.2x that of bench/hand_digits.py, the same
experiment hand-written with torch and scikit-learn (same model, split, optimizer, epochs, validation).
On a machine with a CUDA GPU the default run would train there while the hand-written loop stays on the CPU,
so both memory runs and the accuracy run get `trainer.accelerator=cpu` there (the targets are CPU figures).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save, verdict  # noqa: E402

BENCH = Path(__file__).resolve().parent
DLX = str(Path(sys.executable).parent / "dlx")
STARTUP = {"--help": 0.5, "train --cfg job": 1.5, "list": 1.5}  # command -> target seconds
ACCURACY, SECONDS, MEMORY = 0.99, 30.0, 1.2

# Each child reports its own peak RSS (KiB on Linux) on its last line.
HAND_LOOP = str(BENCH / "hand_digits.py")  # torch and scikit-learn only: no Lightning, no Hydra
DLX_TRAIN = """
import resource, subprocess, sys
done = subprocess.run([{dlx!r}, "train", *{args!r}], capture_output=True)
sys.exit(done.returncode) if done.returncode else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(args: list[str], cwd: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run([DLX, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    return time.perf_counter() - t0, out


def peak_rss_mib(args: list[str], cwd: str) -> float:
    out = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def train_args() -> list[str]:
    """The default `dlx train`, kept on the CPU where there is a CUDA GPU (see the module's docstring)."""
    import torch

    return ["trainer.progress=false"] + (["trainer.accelerator=cpu"] if torch.cuda.is_available() else [])


def main() -> int:
    rows = []
    args = train_args()
    with tempfile.TemporaryDirectory(prefix="dlx-bench-") as cwd:
        for command, target in STARTUP.items():
            seconds = min(timed(command.split(), cwd)[0] for _ in range(3))
            rows.append({"name": f"dlx {command}", "seconds": seconds, "target": f"< {target} s",
                         "verdict": verdict(seconds, target)})  # fmt: skip
        seconds, out = timed(["train", *args], cwd)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        report = json.loads(next(Path(cwd, "runs").rglob("report.json")).read_text())
        ok = seconds < SECONDS and report["test_acc"] >= ACCURACY
        rows.append({"name": "dlx train (default)", "seconds": seconds, "test_acc": report["test_acc"],
                     "epochs": report["epochs_run"], "target": f">= {ACCURACY} in < {SECONDS:g} s",
                     "verdict": "ok" if ok else "MISS"})  # fmt: skip
        hand = peak_rss_mib([HAND_LOOP], cwd)
        dlx = peak_rss_mib(["-c", DLX_TRAIN.format(dlx=DLX, args=args)], cwd)
        rows.append({"name": "peak RSS, default run", "hand_mib": hand, "dlx_mib": dlx, "ratio": dlx / hand,
                     "target": f"<= {MEMORY}", "verdict": verdict(dlx / hand, MEMORY)})  # fmt: skip

    print("\nwhole process, fresh directory")
    for r in rows[: len(STARTUP)]:
        print(f"  {r['name']:<22} {r['seconds']:6.2f} s  (best of 3)  target {r['target']}: {r['verdict']}")
    r = rows[len(STARTUP)]
    print(f"  {r['name']:<22} {r['seconds']:6.2f} s  test accuracy {r['test_acc']:.4f} ({r['epochs']} epochs)  "
          f"target {r['target']}: {r['verdict']}")  # fmt: skip
    r = rows[-1]
    print(f"  peak RSS: hand-written loop {r['hand_mib']:.0f} MiB, dlx train {r['dlx_mib']:.0f} MiB, "
          f"ratio {r['ratio']:.2f}  target {r['target']}: {r['verdict']}")  # fmt: skip
    save("default_run", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
