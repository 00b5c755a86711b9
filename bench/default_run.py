"""Whole-process cost of what a user types: `dlx train` with no arguments, and the CLI's start-up paths.

    .venv/bin/python bench/default_run.py        (or: make bench)

Runs the installed `dlx` in a fresh empty directory and reports wall seconds and the default
run's test accuracy (targets: >= 0.97 in under 60 s on 2 CPU cores).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DLX = str(Path(sys.executable).parent / "dlx")


def timed(args: list[str], cwd: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run([DLX, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    return time.perf_counter() - t0, out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dlx-bench-") as cwd:
        startup = {
            " ".join(a): min(timed(a, cwd)[0] for _ in range(3)) for a in (["--help"], ["train", "--cfg", "job"])
        }
        seconds, out = timed(["train"], cwd)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        report = json.loads(next(Path(cwd, "runs").rglob("report.json")).read_text())
    print("\nwhole process, fresh directory, 2 CPU cores")
    for args, s in startup.items():
        print(f"  dlx {args:<18} {s:6.2f} s  (best of 3)")
    ok = "ok" if seconds < 60 and report["test_acc"] >= 0.97 else "MISS"
    print(
        f"  dlx train (default) {seconds:6.2f} s  test accuracy {report['test_acc']:.4f}  "
        f"({report['epochs_run']} epochs, train {report['train_seconds']:.1f} s)  target < 60 s, >= 0.97: {ok}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
