"""End to end through the installed `dlx` command: what a user types, what lands on disk."""

import csv
import json
from pathlib import Path

import yaml

from dlx.config.paths import packaged_conf_dir
from tests.conftest import SMOKE, run_dirs, run_dlx, run_in_process

REPORT_KEYS = {
    "test_acc",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "test_loss",
    "confusion_matrix",
    "per_class",
    "best_epoch",
    "epochs_run",
    "train_seconds",
    "inference_ms_per_sample",
    "param_count",
    "checkpoint_bytes",
    "versions",
    "device",
    "git_commit",
    "best_val_acc",
    "wall_seconds",
}


def test_dlx_help_lists_commands(workdir: Path):
    out = run_dlx("--help", cwd=workdir)
    assert out.returncode == 0 and "train" in out.stdout


def test_train_help_lists_groups_and_options(workdir: Path):
    out = run_dlx("train", "--help", cwd=workdir)
    assert out.returncode == 0
    conf = packaged_conf_dir()
    # conf/hydra/ holds presets of Hydra's own groups (hydra/launcher=slurm), not experiment groups
    for group in sorted(d.name for d in conf.iterdir() if d.is_dir() and d.name != "hydra"):
        line = f"{group}: {', '.join(sorted(p.stem for p in (conf / group).glob('*.yaml')))}"
        assert line in out.stdout


def test_cfg_job_prints_the_composed_config_and_creates_nothing(workdir: Path):
    out = run_dlx("train", "--cfg", "job", "model=resnet", cwd=workdir)
    assert out.returncode == 0
    cfg = yaml.safe_load(out.stdout)
    assert cfg["model"]["_target_"] == "dlx.model.resnet.resnet" and cfg["data"]["_target_"].endswith("digits")
    assert list(workdir.iterdir()) == []


def test_default_smoke_run_writes_a_complete_run_directory(workdir: Path):
    out = run_dlx("train", *SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stderr
    [run] = run_dirs(workdir / "runs")
    assert run.parent.name == "cnn-digits"
    for name in (
        "config.yaml",
        "overrides.yaml",
        ".hydra/config.yaml",
        ".hydra/hydra.yaml",
        ".hydra/overrides.yaml",
        "checkpoints/best.ckpt",
        "checkpoints/last.ckpt",
        "metrics.csv",
        "report.json",
    ):
        assert (run / name).is_file(), name
    assert (run / "status").read_text().strip() == "completed"
    assert (workdir / "runs" / "latest").resolve() == run.resolve()
    assert yaml.safe_load((run / "config.yaml").read_text())["trainer"]["max_epochs"] == 1
    assert yaml.safe_load((run / "overrides.yaml").read_text()) == SMOKE
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"]
    assert len(rows) == 1 and float(rows[0]["lr"]) > 0
    report = json.loads((run / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert len(report["confusion_matrix"]) == 10 and len(report["per_class"]["f1"]) == 10
    assert report["checkpoint_bytes"] == (run / "checkpoints" / "best.ckpt").stat().st_size
    assert report["versions"]["torch"] and report["device"].startswith("cpu")
    for shown in (str(run.relative_to(workdir)), "test accuracy", "macro F1", "wall time"):
        assert shown in out.stdout


def test_resnet_with_flip(workdir: Path):
    out = run_dlx("train", "model=resnet", "aug=flip", *SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stderr
    [run] = run_dirs(workdir / "runs")
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert run.parent.name == "resnet-digits" and cfg["aug"]["flip"]["p"] == 0.5
    assert cfg["model"]["_target_"] == "dlx.model.resnet.resnet"


def test_default_run_reaches_97_percent(workdir: Path):
    out = run_dlx("train", cwd=workdir)  # exactly what a user types; the time is measured by bench/
    assert out.returncode == 0, out.stderr
    [run] = run_dirs(workdir / "runs")
    report = json.loads((run / "report.json").read_text())
    assert report["test_acc"] >= 0.97 and report["epochs_run"] == 30
    with open(run / "metrics.csv") as f:
        val_accs = [float(r["val_acc"]) for r in csv.DictReader(f)]
    assert abs(report["best_val_acc"] - max(val_accs)) < 1e-6
    assert val_accs[report["best_epoch"]] == max(val_accs) and val_accs.index(max(val_accs)) == report["best_epoch"]


def metrics_without_times(run: Path) -> tuple[list, dict]:
    with open(run / "metrics.csv") as f:
        rows = [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in csv.DictReader(f)]
    report = json.loads((run / "report.json").read_text())
    keep = ("test_acc", "test_loss", "f1_macro", "confusion_matrix", "best_epoch", "best_val_acc")
    return rows, {k: report[k] for k in keep}


def test_same_seed_deterministic_runs_are_bit_identical(workdir: Path):
    args = ["train", "trainer.deterministic=true", "trainer.max_epochs=2", "trainer.progress=false"]
    for seed in (7, 7, 8):  # in one process: nothing a run leaves behind changes the next one's numbers
        assert run_in_process(*args, f"seed={seed}", cwd=workdir).returncode == 0
    first, second, other = [metrics_without_times(r) for r in run_dirs(workdir / "runs")]
    assert first == second
    assert first[0] != other[0], "a different seed gives different numbers (the check can fail)"


def test_ctrl_c_marks_the_run_interrupted(workdir: Path):
    import signal
    import subprocess
    import time

    from tests.conftest import DLX

    proc = subprocess.Popen(
        [DLX, "train", "trainer.max_epochs=500", "trainer.progress=false"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((workdir / "runs").rglob("last.ckpt")) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until an epoch has been checkpointed (its metrics row comes a moment earlier)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last_line = err.strip().splitlines()[-1]
    assert last_line == "dlx train: interrupted (stopped by SIGINT); continue with: dlx train resume=latest"
    [run] = run_dirs(workdir / "runs")
    assert (run / "status").read_text().split("\n")[0] == "interrupted"
    assert (run / "checkpoints" / "last.ckpt").is_file() and not (run / "report.json").exists()
