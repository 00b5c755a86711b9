"""`dlx train resume=RUN`: an interrupted run continues in its own directory, ending as an uninterrupted one."""

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import torch

from tests.conftest import DLX, run_dirs, run_in_process

# dropout and flip draw random numbers every step, early stopping keeps state: all must survive the restart
RUN = ["model.dropout=0.2", "aug=[flip]", "reg=[early_stopping]", "trainer.max_epochs=12", "trainer.deterministic=true"]


def epochs_logged(run: Path) -> list[int]:
    if not (run / "metrics.csv").exists():
        return []
    with open(run / "metrics.csv") as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


def interrupt_after(epochs: int, workdir: Path, args: list[str]) -> Path:
    """Start dlx train, send SIGINT (Ctrl-C) once `epochs` epochs are logged; the run directory."""
    proc = subprocess.Popen([DLX, "train", *args], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        runs = run_dirs(workdir / "runs")
        if runs and len(epochs_logged(runs[0])) >= epochs:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == 130, proc.stderr.read().decode()
    (run,) = run_dirs(workdir / "runs")
    return run


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path: Path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir(), cut.mkdir()
    done = run_in_process("train", *RUN, "trainer.progress=false", cwd=whole)
    assert done.returncode == 0, done.stderr
    (reference,) = run_dirs(whole / "runs")

    run = interrupt_after(3, cut, [*RUN, "trainer.progress=false"])
    assert (run / "status").read_text().startswith("interrupted")
    stopped_at = len(epochs_logged(run))
    assert stopped_at < len(epochs_logged(reference)), "the interruption came before the end"

    resumed = run_in_process("train", "resume=latest", cwd=cut)
    assert resumed.returncode == 0, resumed.stderr
    assert run_dirs(cut / "runs") == [run], "continued in the same directory, no new one"
    assert (run / "status").read_text().startswith("completed")
    assert epochs_logged(run) == epochs_logged(reference), "every epoch logged once, in order"
    a, b = (json.loads((r / "report.json").read_text()) for r in (reference, run))
    for key in ("test_acc", "test_loss", "f1_macro", "best_val_acc", "best_epoch", "epochs_run"):
        assert a[key] == b[key], key
    with open(reference / "metrics.csv") as f, open(run / "metrics.csv") as g:
        ref_rows, got_rows = list(csv.DictReader(f)), list(csv.DictReader(g))
    for r, g in zip(ref_rows, got_rows, strict=True):
        assert (r["train_loss"], r["val_acc"], r["lr"]) == (g["train_loss"], g["val_acc"], g["lr"])
    wa = torch.load(reference / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    wb = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa), "bit-identical best weights"


def test_resume_refuses_other_overrides(workdir: Path):
    bad = run_in_process("train", "resume=latest", "optim.lr=0.1", cwd=workdir)
    assert bad.returncode == 2 and "drop the other overrides: optim.lr=0.1" in bad.stderr


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(workdir: Path):
    done = run_in_process("train", "trainer=smoke", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (run,) = run_dirs(workdir / "runs")
    reference = json.loads((run / "report.json").read_text())
    for name in ("checkpoints", "report.json", "report.html", "plots"):  # as if killed during its first epoch
        target = run / name
        subprocess.run(["rm", "-rf", str(target)], check=True)
    (run / "metrics.csv").write_text("epoch,train_loss\n")
    (run / "status").write_text("running\n")
    (run / ".status.123.tmp").write_text("half")  # a temporary file the kill left mid-write
    resumed = run_in_process("train", f"resume={run}", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert "no checkpoints/last.ckpt yet: training it from the start" in resumed.stderr
    assert (run / "status").read_text().startswith("completed") and not (run / ".status.123.tmp").exists()
    again = json.loads((run / "report.json").read_text())
    assert again["test_acc"] == reference["test_acc"] and again["epochs_run"] == reference["epochs_run"]
