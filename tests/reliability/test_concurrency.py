"""Load: many `dlx train` processes into one runs/ at once, and a multirun that keeps going past a crashed job.

DLX_CONCURRENT=8 pytest -q -s tests/reliability/test_concurrency.py   (make test: 4)
"""

import csv
import os
import subprocess
from pathlib import Path

from dlx.run_dir import read_status
from tests.conftest import DLX, SMOKE, run_dirs, run_in_process
from tests.reliability.tally import record, scale
from tests.train.test_bad_input import FAILING_MODEL

# What a completed run directory holds; one of these missing counts as a file lost.
RUN_FILES = ["status", "report.json", "config.yaml", "metrics.csv", "data.json", "checkpoints/best.ckpt", "report.html"]


def start_trainings(n: int, workdir: Path) -> list[subprocess.Popen]:
    """n identical `dlx train` runs, all named `race`: they claim directories under the same runs/race/."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    command = [DLX, "train", *SMOKE, "name=race"]
    return [
        subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]


def test_concurrent_runs_get_their_own_directories(workdir: Path):
    n = scale("DLX_CONCURRENT", 4)  # make reliability: 8
    procs = start_trainings(n, workdir)
    errors = [p.communicate(timeout=600)[1] for p in procs]  # stderr is a few lines: the pipes never fill
    codes = [p.returncode for p in procs]
    runs = run_dirs(workdir / "runs")
    completed = [r for r in runs if read_status(r)[0] == "completed" and (r / "report.json").is_file()]
    lost = sum(not (r / f).is_file() for r in runs for f in RUN_FILES) + len(RUN_FILES) * max(0, n - len(runs))
    record("concurrent runs completed", n, len(completed), lost)
    seconds = {r.name[: len("YYYY-MM-DD_HH-MM-SS")] for r in runs}  # a run that found its second taken adds -N
    print(f"concurrency: {len(runs)} run directories, started within {len(seconds)} distinct seconds")
    assert codes == [0] * n, [e for c, e in zip(codes, errors, strict=True) if c]
    assert len(runs) == n and all(r.parent == workdir / "runs" / "race" for r in runs), runs
    assert len(completed) == n and lost == 0
    latest = workdir / "runs" / "latest"
    assert latest.is_symlink() and latest.resolve() in {r.resolve() for r in runs}


def sweep_rows(workdir: Path) -> list[dict]:
    [sweep] = list((workdir / "runs" / "multirun").iterdir())
    with open(sweep / "summary.csv") as f:
        return list(csv.DictReader(f))


def test_a_multirun_finishes_the_other_jobs_after_one_crashes(workdir: Path, monkeypatch):
    """In-process: the multirun's own exception handling is what is tested, not a process boundary."""
    (workdir / "conf" / "model").mkdir(parents=True)
    (workdir / "conf" / "model" / "fails.yaml").write_text("# raises in training.  dlx train model=fails\n"
                                                           "_target_: mymodels.Fails\n")  # fmt: skip
    (workdir / "mymodels.py").write_text(FAILING_MODEL)
    monkeypatch.syspath_prepend(str(workdir))  # mymodels.py, as PYTHONPATH=. would find it
    monkeypatch.setenv("COLUMNS", "160")  # the summary table's error cell on one line
    out = run_in_process("train", "-m", "model=mlp,fails,cnn", *SMOKE, cwd=workdir)
    rows = sweep_rows(workdir)
    others = [r for r in rows if r["overrides"].split()[0] != "model=fails"]
    record("multirun jobs completed beside a crashed one", len(others), sum(r["status"] == "completed" for r in others))
    assert out.returncode == 1, out.stderr
    assert [r["status"] for r in rows] == ["completed", "failed", "completed"], rows
    assert rows[1]["error"] == "RuntimeError: exploded in training"
    [crashed] = [d for d in run_dirs(workdir / "runs") if d.name == "1"]
    assert (crashed / "status").read_text().splitlines()[0] == "failed" and not (crashed / "report.json").exists()
    assert "dlx train: job 1 failed: RuntimeError: exploded in training" in out.stderr
    assert "failed" in out.stdout and "exploded in training" in out.stdout  # the summary table
