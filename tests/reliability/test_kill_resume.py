"""SIGKILL at random moments, then `dlx train resume=RUN`: every run ends exactly as the uninterrupted one.

Kills cycle through three moments: any time once the run directory exists, just after an epoch's metrics
row (inside the next epoch), and while a checkpoint is being written (a temporary file is in checkpoints/).
After every kill, each file the run has is whole: checkpoints load, metrics.csv parses. DLX_KILLS sets the
number of kills (make reliability: 20); a run takes up to KILLS_PER_RUN of them before a fresh one starts.
"""

import csv
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import torch

from tests.conftest import DLX, run_dirs, run_in_process
from tests.reliability.tally import record, scale

# checkpoint_every_s=0.1: epochs of about that length, so kills land both between held improvements and writes
RUN = ["model.dropout=0.2", "aug=[flip]", "model.width=96", "trainer.max_epochs=8", "trainer.deterministic=true",
       "trainer.checkpoint_every_s=0.1"]  # fmt: skip
KILLS_PER_RUN = 4
MOMENTS = ("any time", "inside an epoch", "during a checkpoint save")


def start(workdir: Path, args: list[str]) -> subprocess.Popen:
    argv = [DLX, "train", *args, "trainer.progress=false"] if args[0] != "resume=latest" else [DLX, "train", *args]
    return subprocess.Popen(argv, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rows(run: Path) -> list[dict]:
    path = run / "metrics.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        found = list(csv.DictReader(f))
    assert all(None not in r.values() and "" not in (r["epoch"], r["train_loss"]) for r in found), "a half row"
    return found


def wait_then_kill(proc: subprocess.Popen, workdir: Path, moment: str, rng: random.Random) -> str:
    """SIGKILL at `moment`; the moment it really hit (the run may end or move on first)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not run_dirs(workdir / "runs"):
        time.sleep(0.01)
    run = (run_dirs(workdir / "runs") or [None])[0]
    if moment == "any time":
        time.sleep(rng.uniform(0, 2.0))
    elif moment == "inside an epoch":
        seen = len(rows(run))
        while time.monotonic() < deadline and proc.poll() is None and len(rows(run)) == seen:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.05))
    else:
        folder = run / "checkpoints"
        while time.monotonic() < deadline and proc.poll() is None:
            if folder.is_dir() and any(name.endswith(".tmp") for name in os.listdir(folder)):
                break
        else:
            moment = "any time"  # the run ended before a save was caught
    if proc.poll() is not None:
        return "after the end"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return moment


def files_lost(run: Path) -> int:
    """Files the kill left unreadable: a checkpoint that does not load, a metrics.csv with a half row."""
    lost = 0
    for ckpt in (run / "checkpoints").glob("*.ckpt") if (run / "checkpoints").is_dir() else []:
        try:
            torch.load(ckpt, map_location="cpu", weights_only=True)
        except Exception:
            lost += 1
    try:
        rows(run)
    except (AssertionError, csv.Error):
        lost += 1
    for name in ("report.json", "data.json"):
        if (run / name).exists():
            try:
                json.loads((run / name).read_text())
            except ValueError:
                lost += 1
    return lost


def same_result(reference: Path, run: Path) -> bool:
    a, b = (json.loads((r / "report.json").read_text()) for r in (reference, run))
    keys = ("test_acc", "test_loss", "best_val_acc", "best_epoch", "epochs_run")
    numbers = [(r["train_loss"], r["val_acc"], r["lr"]) for r in rows(reference)]
    wa = torch.load(reference / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    wb = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    return (
        all(a[k] == b[k] for k in keys)
        and numbers == [(r["train_loss"], r["val_acc"], r["lr"]) for r in rows(run)]
        and all(torch.equal(wa[k], wb[k]) for k in wa)
    )


def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path: Path):
    kills, rng = scale("DLX_KILLS", 3), random.Random(0)
    whole = tmp_path / "whole"
    whole.mkdir()
    done = run_in_process("train", *RUN, "trainer.progress=false", cwd=whole)  # the killed runs are real processes
    assert done.returncode == 0, done.stderr
    (reference,) = run_dirs(whole / "runs")

    tried = survived = lost = 0
    hits: dict[str, int] = {}
    for first in range(0, kills, KILLS_PER_RUN):
        workdir = tmp_path / f"killed{first}"
        workdir.mkdir()
        args, this_run = RUN, 0
        for k in range(first, min(first + KILLS_PER_RUN, kills)):
            hit = wait_then_kill(start(workdir, args), workdir, MOMENTS[k % len(MOMENTS)], rng)
            hits[hit] = hits.get(hit, 0) + 1
            (run,) = run_dirs(workdir / "runs")
            lost += files_lost(run)
            killed = hit != "after the end"  # a run that ended first was not killed: not a kill survived
            tried, this_run, args = tried + killed, this_run + killed, ["resume=latest"]
        final = run_in_process("train", "resume=latest", cwd=workdir)
        (run,) = run_dirs(workdir / "runs")
        ok = final.returncode == 0 and (run / "status").read_text().startswith("completed")
        if ok and same_result(reference, run):
            survived += this_run
        else:
            print(f"\n{run}: resume exit {final.returncode}: {final.stderr[-1000:]}")
    print(f"\nkill moments: {hits}")
    record("kills survived", tried=tried, ok=survived, lost=lost)
    assert survived == tried and lost == 0
    assert tried >= kills * 2 // 3, f"most kills must land before the run ends: {hits}"
