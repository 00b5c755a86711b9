"""`dlx train -m`: a grid of jobs under one sweep directory, summarized at the end."""

import csv
import json
import os
import statistics
from pathlib import Path

import pytest

from tests.conftest import SMOKE, run_dlx, run_in_process


def sweep_dir(workdir: Path) -> Path:
    [d] = list((workdir / "runs" / "multirun").iterdir())
    return d


def test_grid_of_four_jobs(workdir: Path):
    out = run_in_process("train", "-m", "optim=sgd,adam", "model=mlp,cnn", *SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stderr
    sweep = sweep_dir(workdir)
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["overrides"] for r in rows} == {
        f"optim={o} model={m} trainer=smoke" for o in ("sgd", "adam") for m in ("mlp", "cnn")
    }
    assert all(r["status"] == "completed" and 0 <= float(r["test_acc"]) <= 1 for r in rows)
    for job in "0123":
        assert (sweep / job / "checkpoints" / "best.ckpt").is_file()
        assert (sweep / job / "report.json").is_file()
    assert "multirun" in out.stdout and "test acc" in out.stdout


def test_a_failing_job_is_marked_and_the_others_run(workdir: Path):
    out = run_in_process("train", "-m", "optim.lr=0.01,-1,0.02", *SMOKE, cwd=workdir)
    assert out.returncode == 1
    with open(sweep_dir(workdir) / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed", "failed", "completed"]
    assert "optim.lr: got -1" in rows[1]["error"]
    assert "failed" in out.stdout


def test_two_sweeps_in_the_same_second_do_not_share_a_directory(workdir: Path):
    import subprocess

    from tests.conftest import DLX

    procs = [
        subprocess.Popen(
            [DLX, "train", "-m", "seed=1,2", *SMOKE], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(2)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    sweeps = list((workdir / "runs" / "multirun").iterdir())
    assert len(sweeps) == 2
    assert all(sorted(p.name for p in s.iterdir() if p.is_dir()) == ["0", "1"] for s in sweeps)


def test_a_multirun_over_folds_reports_mean_and_std(workdir: Path):
    out = run_in_process(
        "train", "-m", "data=iris", "model=mlp", "data.folds=3", "data.fold=0,1,2", "trainer.max_epochs=3",
        "trainer.progress=false", cwd=workdir,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    sweep = sweep_dir(workdir)
    reports = [json.loads((sweep / str(j) / "report.json").read_text()) for j in range(3)]
    sizes = [json.loads((sweep / str(j) / "data.json").read_text())["sizes"] for j in range(3)]
    assert len({s["test"] for s in sizes}) == 1 and sum(s["val"] for s in sizes) == sizes[0]["train"] + sizes[0]["val"]
    with open(sweep / "summary_mean_std.csv") as f:
        (row,) = list(csv.DictReader(f))
    accs = [r["test_acc"] for r in reports]
    assert row["setting"].startswith("data=iris model=mlp data.folds=3 ") and "fold=" not in row["setting"]
    assert row["jobs"] == "3"
    assert float(row["test_acc_mean"]) == pytest.approx(statistics.fmean(accs))
    assert float(row["test_acc_std"]) == pytest.approx(statistics.stdev(accs))
    assert "mean ± std over folds / seeds" in out.stdout


def test_runs_without_validation_report_no_val_accuracy_in_strict_json_and_the_sweep_still_sums_up(workdir: Path):
    args = ["data=iris", "model=mlp", "seed=1,2", "trainer.max_epochs=2", "trainer.limit_val_batches=0"]
    out = run_in_process("train", "-m", *args, "trainer.progress=false", cwd=workdir)
    assert out.returncode == 0, out.stderr
    sweep = sweep_dir(workdir)

    def no_nan(name):
        raise AssertionError(f"report.json holds {name}, which JSON does not have")

    for job in ("0", "1"):
        report = json.loads((sweep / job / "report.json").read_text(), parse_constant=no_nan)
        assert report["best_val_acc"] is None and report["best_epoch"] is None and 0 <= report["test_acc"] <= 1
    with open(sweep / "summary.csv") as f:
        assert [r["best_val_acc"] for r in csv.DictReader(f)] == ["", ""]
    with open(sweep / "summary_mean_std.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert row["best_val_acc_mean"] == "" and float(row["test_acc_mean"]) >= 0
    assert "mean ± std over folds / seeds" in out.stdout


def test_the_joblib_launcher_runs_jobs_side_by_side_each_with_its_share_of_the_cores(workdir: Path):
    args = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "optim=sgd,adam", *SMOKE]
    out = run_dlx("train", "-m", *args, cwd=workdir)
    assert out.returncode == 0, out.stderr
    sweep = sweep_dir(workdir)
    jobs = [sweep / "0", sweep / "1"]
    for job in jobs:
        assert (job / "status").read_text().startswith("completed")
        report = json.loads((job / "report.json").read_text())
        assert report["torch_threads"] == max(1, (os.cpu_count() or 1) // 2), "cores // n_jobs threads each"
    # each job's config.yaml is written when it starts and its status when it ends: the two overlapped
    start = [(j / "config.yaml").stat().st_mtime for j in jobs]
    end = [(j / "status").stat().st_mtime for j in jobs]
    assert start[0] < end[1] and start[1] < end[0], "the jobs ran at the same time"
    with open(sweep / "summary.csv") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["completed", "completed"]


def test_threads_are_shared_only_under_the_joblib_launcher():
    from dlx.train.task import parallel_jobs

    cores = os.cpu_count() or 1
    assert parallel_jobs({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}) == 1
    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    assert parallel_jobs({"_target_": joblib, "n_jobs": 2}) == min(2, cores)
    assert parallel_jobs({"_target_": joblib, "n_jobs": -1}) == cores
    assert parallel_jobs({"_target_": joblib, "n_jobs": 64}) == cores


def test_the_submitit_local_launcher_runs_each_job_as_a_submitit_job(workdir: Path):

    out = run_in_process("train", "-m", "hydra/launcher=local", "seed=0", *SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stderr
    sweep = sweep_dir(workdir)
    assert (sweep / "0" / "status").read_text().startswith("completed")
    [log] = list((sweep / ".submitit").rglob("*_log.out"))  # the job ran as a submitit job: its own process
    assert "dlx train" in log.read_text() or log.stat().st_size > 0
    with open(sweep / "summary.csv") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["completed"]


def test_the_slurm_preset_asks_for_one_task_and_gpu_per_process_on_every_node():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from dlx.config.paths import packaged_conf_dir
    from dlx.train.command import register_resolvers

    register_resolvers()
    overrides = ["hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2"]
    with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    launcher = {k: OmegaConf.select(cfg, f"hydra.launcher.{k}") for k in
                ("_target_", "nodes", "tasks_per_node", "gpus_per_node", "timeout_min", "partition")}  # fmt: skip
    assert launcher == {
        "_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
        "nodes": 2, "tasks_per_node": 4, "gpus_per_node": 4, "timeout_min": 240, "partition": None,
    }  # fmt: skip


def test_other_ranks_of_a_slurm_job_leave_the_job_to_rank_zero(monkeypatch):
    from dlx.train.task import not_rank_zero

    for name in ("SLURM_PROCID", "RANK", "NODE_RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert not not_rank_zero()
    monkeypatch.setenv("SLURM_PROCID", "0")
    assert not not_rank_zero()
    monkeypatch.setenv("SLURM_PROCID", "3")
    assert not_rank_zero()


def test_the_summary_tables_show_list_overrides_and_errors_as_written(capsys, monkeypatch, tmp_path: Path):
    from dlx.train.summary import mean_std_rows, print_table, write_and_print_mean_std

    monkeypatch.setenv("COLUMNS", "250")
    numbers = {"test_acc": 0.9, "f1_macro": 0.8, "best_val_acc": 0.85, "test_loss": 0.3, "wall_seconds": 1.0}
    rows = [
        {"job": "0", "overrides": "reg=[l2] seed=1", "status": "completed", **numbers, "error": ""},
        {"job": "1", "overrides": "reg=[l2] seed=2", "status": "completed", **numbers, "error": ""},
        {"job": "2", "overrides": "reg=[dropout]", "status": "failed", **{k: "" for k in numbers}, "error": "bad [x]"},
    ]
    print_table(rows, tmp_path)
    write_and_print_mean_std(mean_std_rows(rows), tmp_path)
    out = capsys.readouterr().out
    assert "reg=[l2] seed=1" in out and "reg=[dropout]" in out and "bad [x]" in out, out
    assert "\n│ reg=[l2]" in out, "the mean ± std table's setting keeps its list too"
