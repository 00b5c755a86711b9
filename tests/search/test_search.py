"""`dlx search` end to end: trials as runs, pruning, a crashed trial, resume after a real kill, bad input."""

import csv
import json
import pickle
import signal
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import DLX, run_dlx, run_in_process

FAST = ["model=mlp", "trainer.limit_train_batches=3", "trainer.progress=false"]


def sweep_of(workdir: Path, name: str) -> Path:
    [d] = list((workdir / "runs" / "sweeps" / name).iterdir())
    return d


def trials(sweep: Path) -> list[dict]:
    with open(sweep / "trials.csv") as f:
        return list(csv.DictReader(f))


def test_a_random_search_runs_its_trials_as_runs_and_writes_the_outputs(workdir: Path):
    out = run_in_process(
        "search", "search=digits_cnn", "search.sampler=random", "search.pruner=none", "search.n_trials=3",
        "trainer.max_epochs=2", *FAST, cwd=workdir,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    sweep = sweep_of(workdir, "digits_cnn")
    rows = trials(sweep)
    assert [r["state"] for r in rows] == ["complete"] * 3 and all(r["epochs"] == "2" for r in rows)
    for r in rows:
        assert 1e-4 <= float(r["optim.lr"]) <= 3e-2 and 8 <= int(r["model.width"]) <= 48
        report = json.loads((Path(r["run_dir"]) / "report.json").read_text())
        assert report["best_val_acc"] == pytest.approx(float(r["val_acc"]))
    assert (sweep / "history.png").stat().st_size > 5000 and (sweep / "importance.png").is_file()
    listed = json.loads(run_in_process("runs", "--json", cwd=workdir).stdout)
    assert len([r for r in listed if "/sweeps/" in r["run_dir"]]) == 3, "dlx runs shows the trials"
    best = max(rows, key=lambda r: float(r["val_acc"]))
    text = (sweep / "best.yaml").read_text()
    assert f"best trial {best['trial']} " in text and "override /optim" in text
    again = run_in_process("train", "--config-dir", str(sweep), "experiment=best", "trainer.max_epochs=1", cwd=workdir)
    assert again.returncode == 0, again.stderr


def test_hyperband_prunes_trials_that_lag(workdir: Path):
    out = run_in_process(
        "search", "search=digits_cnn", "search.sampler=random", "search.pruner=hyperband", "search.n_trials=10",
        "trainer.max_epochs=9", *FAST, cwd=workdir,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = trials(sweep_of(workdir, "digits_cnn"))
    pruned = [r for r in rows if r["state"] == "pruned"]
    assert pruned and all(int(r["epochs"]) < 9 for r in pruned), rows
    assert all((Path(r["run_dir"]) / "status").read_text().startswith("pruned") for r in pruned)


def write_crash_search(workdir: Path, depths: str) -> None:
    """conf/search/crash.yaml: a grid over model.depth; depths of 9 or more cannot fit 8x8 digits."""
    conf = workdir / "conf" / "search"
    conf.mkdir(parents=True)
    (conf / "crash.yaml").write_text(
        "# depth 9 cannot fit 8x8 digits.  dlx search search=crash\n_target_: dlx.search.spec.search\n"
        f"sampler: grid\npruner: none\nspace:\n  model.depth: choice({depths})\n"
    )


def test_a_crashing_trial_is_recorded_and_the_search_goes_on(workdir: Path):
    write_crash_search(workdir, "2, 9")
    out = run_in_process("search", "search=crash", "trainer=smoke", cwd=workdir)
    assert out.returncode == 0, out.stderr
    rows = {r["model.depth"]: r for r in trials(sweep_of(workdir, "crash"))}
    assert rows["2"]["state"] == "complete"
    assert rows["9"]["state"] == "fail" and "needs images of at least" in rows["9"]["error"]


def test_a_search_where_every_trial_failed_exits_1_and_names_the_first_error(workdir: Path):
    write_crash_search(workdir, "9, 10")
    import logging

    class Kept(logging.Handler):  # Optuna's own handler is bound to the real stderr: listen on its logger instead
        def __init__(self):
            super().__init__()
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    kept = Kept()
    logging.getLogger("optuna").addHandler(kept)
    try:
        out = run_in_process("search", "search=crash", "trainer=smoke", cwd=workdir)
    finally:
        logging.getLogger("optuna").removeHandler(kept)
    assert out.returncode == 1, out.stderr
    assert [line for line in kept.lines if "failed" in line] == [], "Optuna's per-trial traceback reaches the user"
    sweep = sweep_of(workdir, "crash")
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("dlx search: no trial completed (2 of 2 failed: ConfigError: model: model=cnn as configured")
    assert last.endswith(f"see {sweep.relative_to(workdir)}/trials.csv")
    assert [r["state"] for r in trials(sweep)] == ["fail", "fail"]
    assert not (sweep / "history.png").exists() and not (sweep / "importance.png").exists(), "empty plots"


def finished_trials(sweep: Path) -> int:
    """Counted from study.db opened read-only: Optuna's own load_study may create the schema while the search
    is still creating it, and the search's create then fails (seen once in CI as exit 1 before the kill)."""
    import sqlite3

    db = sweep / "study.db"
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as con:
            query = "SELECT count(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED', 'FAIL')"
            return con.execute(query).fetchone()[0]
    except sqlite3.Error:  # no schema yet, or the search holds a write lock
        return 0


def test_a_killed_search_resumes_without_rerunning_finished_trials(workdir: Path):
    args = ["search=digits_cnn", "search.sampler=tpe", "search.pruner=none", "search.n_trials=5"]
    command = [DLX, "search", *args, "trainer.max_epochs=3", *FAST]
    proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    sweep = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((workdir / "runs" / "sweeps" / "digits_cnn").glob("*/study.db"))
        sweep = found[0].parent if found else None
        if sweep and finished_trials(sweep) >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.2)
    code = proc.wait(timeout=60)
    assert code == -signal.SIGKILL, f"not killed mid-search (exit {code}): {proc.stderr.read().decode()[-3000:]}"
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in (sweep / "trials").glob("*/report.json")}
    assert len(done_before) >= 2 and not (sweep / "trials.csv").exists()

    out = run_in_process("search", f"resume={sweep}", cwd=workdir)
    assert out.returncode == 0, out.stderr
    rows = trials(sweep)
    killed = [r for r in rows if r["state"] == "fail"]
    assert all("killed" in r["error"] for r in killed) and len(killed) <= 1
    assert len(rows) == 5 + len(killed), "the killed trial did not finish: it is run again, outside the budget"
    assert [r["state"] for r in rows].count("complete") == 5
    after = {p.parent.name: p.stat().st_mtime_ns for p in (sweep / "trials").glob("*/report.json")}
    assert all(after[k] == v for k, v in done_before.items()), "finished trials were not run again"


def test_a_trial_stopped_while_writing_its_report_is_interrupted_and_run_again_on_resume(workdir: Path, monkeypatch):
    import dlx.report.html

    write_crash_search(workdir, "1, 2")  # a grid of two points, both of which train
    real_write_report, calls = dlx.report.html.write_report, []

    def ctrl_c_on_the_first(run_dir):  # Ctrl-C after the trial trained, while its report is written
        calls.append(run_dir)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_write_report(run_dir)

    monkeypatch.setattr(dlx.report.html, "write_report", ctrl_c_on_the_first)
    out = run_in_process("search", "search=crash", "trainer=smoke", cwd=workdir)
    sweep = sweep_of(workdir, "crash")
    assert out.returncode == 130, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    resume = f"dlx search resume={sweep.relative_to(workdir)}"
    assert last == f"dlx search: interrupted (stopped by SIGINT); continue with: {resume}"
    assert (sweep / "trials" / "0" / "status").read_text().startswith("interrupted")

    out = run_in_process("search", f"resume={sweep}", cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert "1 trial(s) cut short run again with the same parameters" in out.stderr
    rows = trials(sweep)
    assert [(r["state"], r["model.depth"]) for r in rows][0][0] == "fail"
    done = sorted(r["model.depth"] for r in rows if r["state"] == "complete")
    assert done == ["1", "2"], f"every grid point ran to the end once: {rows}"


BAD = [
    (
        {"space": {"model.widht": "int(1, 4)"}},
        "search.space.model.widht: no such config key; did you mean 'model.width'",
    ),
    ({"space": {"model.width": "int(48, 8)"}}, "search.space.model.width: the range 48..8 is empty or inverted"),
    ({"space": {"optim.lr": "loguniform(0, 1)"}}, "a log-scale range needs a positive low bound; got 0"),
    ({"space": {}}, "search.space: is empty"),
    ({"sampler": "anneal"}, "search.sampler: got 'anneal'"),
    ({"pruner": "median"}, "search.pruner: got 'median'"),
    ({"objective": "test_acc"}, "search.objective: training never logs 'test_acc'"),
    ({"space": {"model.dropout": "uniform(0.0, 1.5)"}}, "model.dropout"),
    ({"space": {"model": "choice(cnn, nope)"}}, "model: unknown option 'nope'"),
    ({"reduction_factor": 1}, "search.reduction_factor: must be 2 or more"),
    (  # a corner of the space turns validation off: every trial would fail at its first epoch's end
        {"space": {"trainer.limit_val_batches": "choice(1, 0)"}},
        "search.objective: val_acc needs validation, and trainer.limit_val_batches=0 turns it off",
    ),
    ({"launcher": "ray"}, "search.launcher: got 'ray'"),
    ({"launcher": "submitit_slurm"}, "search.launcher: submitit_slurm: no SLURM here (srun not found)"),
    ({"cluster": {"timeout_min": 5}}, "search.cluster: applies to launcher=submitit_local or submitit_slurm only"),
    (
        {"launcher": "submitit_local", "cluster": {"partition": "gpu"}},
        "search.cluster.partition: not a submitit parameter",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_search_input_is_one_line_before_any_trial(change, message, workdir: Path, monkeypatch, capsys):
    import yaml

    from dlx.search.command import main

    node = {"_target_": "dlx.search.spec.search", "space": {"optim.lr": "loguniform(1e-4, 1e-2)"}, **change}
    conf = workdir / "conf" / "search"
    conf.mkdir(parents=True)
    (conf / "bad.yaml").write_text("# a bad space.  dlx search search=bad\n" + yaml.safe_dump(node))
    monkeypatch.chdir(workdir)
    assert main(["search=bad"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dlx search: config error: ") and message in err[0], err
    assert not (workdir / "runs").exists(), "no sweep directory, no trial"


def test_two_worker_processes_share_one_study(workdir: Path):
    import optuna

    from dlx.search.study import storage_url

    out = run_dlx(
        "search", "search=digits_cnn", "search.sampler=random", "search.pruner=none", "search.n_trials=4",
        "search.n_jobs=2", "trainer=smoke", cwd=workdir,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    sweep = sweep_of(workdir, "digits_cnn")
    rows = trials(sweep)
    # each worker checks the budget before it takes a trial: the last round may start one extra
    assert 4 <= len(rows) <= 5 and {r["state"] for r in rows} == {"complete"}
    study = optuna.load_study(study_name="dlx", storage=storage_url(sweep))
    pids = {str(v) for k, v in study.user_attrs.items() if k.startswith("worker ")}
    assert len(pids) == 2, ("dlx search and the worker it started both joined the study", study.user_attrs)
    # which process takes which trial is a race (the worker starts 4-6 s after dlx search)
    assert {r["worker_pid"] for r in rows} <= pids, "every trial ran in one of the two"


def test_each_worker_draws_from_its_own_random_stream():
    from types import SimpleNamespace

    import optuna

    from dlx.search.spec import make_sampler

    def first_point(sampler: str, stream: int) -> float:
        spec = SimpleNamespace(sampler=sampler, seed=0, dimensions=[])
        study = optuna.create_study(sampler=make_sampler(spec, stream=stream))
        return study.ask().suggest_float("x", 0.0, 1.0)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for sampler in ("random", "tpe"):
        points = [first_point(sampler, s) for s in (0, 1, 2)]
        assert len(set(points)) == 3, (sampler, "streams 1, 2 (workers, resumes) differ from 0 (the search)")
        assert first_point(sampler, 0) == points[0], "a fresh search keeps its seed"


def test_every_worker_and_resume_orders_a_grid_alike():
    """A grid trial records its point's index only: the index must name the same point in every stream."""
    from types import SimpleNamespace

    from dlx.search.space import parse_space
    from dlx.search.spec import make_sampler

    space = parse_space({"optim": "choice(adam, sgd)", "model.width": "choice(8, 16, 32)"})
    spec = SimpleNamespace(sampler="grid", seed=0, dimensions=space)
    orders = [make_sampler(spec, stream=s)._all_grids for s in (0, 1, 7)]
    assert orders[0] == orders[1] == orders[2] and len(orders[0]) == 6


def test_submitit_jobs_take_the_trials_and_the_search_waits_for_them(workdir: Path):
    out = run_in_process(
        "search", "search=digits_cnn", "search.sampler=random", "search.pruner=none", "search.n_trials=2",
        "search.n_jobs=2", "search.launcher=submitit_local", "+search.cluster.timeout_min=10", "trainer=smoke",
        cwd=workdir,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "2 submitit_local job(s)" in out.stderr
    sweep = sweep_of(workdir, "digits_cnn")
    rows = trials(sweep)
    assert 2 <= len(rows) <= 3 and {r["state"] for r in rows} == {"complete"}
    # each job's result is its worker's pid; which job takes which trial is a race, so not asserted
    results = [pickle.loads(p.read_bytes()) for p in (sweep / "submitit").glob("*_result.pkl")]  # our own jobs'
    pids = {str(pid) for state, pid in results if state == "success"}
    assert len(results) == 2 and len(pids) == 2, ("submitit ran both jobs to the end, each its own process", results)
    assert {r["worker_pid"] for r in rows} <= pids, "the trials ran in the jobs, not in dlx search itself"


def test_ctrl_c_stops_the_search_and_names_the_resume_command(workdir: Path):
    proc = subprocess.Popen(
        [DLX, "search", "search=digits_cnn", "search.sampler=random", "search.pruner=none", "search.n_trials=3",
         "trainer.max_epochs=100", "trainer.progress=false"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(workdir.rglob("last.ckpt")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    sweep = sweep_of(workdir, "digits_cnn")
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("dlx search: interrupted (stopped by SIGINT); continue with: ")
    assert f"dlx search resume={sweep.relative_to(workdir)}" in err
    assert (sweep / "trials" / "0" / "status").read_text().startswith("interrupted")
