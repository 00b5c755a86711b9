"""Run directories written by hand, laid out as `dlx train` lays them out, for tests that only read runs.

write_run(tmp_path / "runs" / "mlp-digits" / "2026-01-02_03-04-05", ["model=mlp", "optim.lr=0.01"], test_acc=0.9)
"""

import functools
import json
import os
from pathlib import Path

import yaml

from tests.conftest import compose_config

T0 = 1_780_000_000.0  # start times are config.yaml's mtime: T0 + minutes keeps the order under control


@functools.cache
def composed(overrides: tuple[str, ...]) -> tuple[dict, dict]:
    cfg, choices = compose_config(list(overrides))
    return cfg, dict(choices)


def curves(epochs: int, best_val_acc: float) -> list[dict]:
    """Rising accuracy, falling loss; the last epoch reaches best_val_acc."""
    rows = []
    for e in range(epochs):
        frac = (e + 1) / epochs
        rows.append(
            {
                "epoch": e,
                "train_loss": 2.0 - 1.5 * frac,
                "train_acc": 0.3 + 0.6 * frac,
                "val_loss": 2.1 - 1.4 * frac,
                "val_acc": best_val_acc * (0.5 + 0.5 * frac),
                "lr": 0.002,
                "epoch_seconds": 0.1,
            }
        )
    return rows


def report(test_acc: float, best_val_acc: float, epochs: int, **extra) -> dict:
    return {
        "run_dir": "runs/x",
        "test_acc": test_acc,
        "test_loss": 1.0 - test_acc / 2,
        "precision_macro": test_acc - 0.01,
        "recall_macro": test_acc - 0.02,
        "f1_macro": test_acc - 0.03,
        "per_class": {"precision": [test_acc] * 3, "recall": [test_acc] * 3, "f1": [test_acc] * 3},
        "confusion_matrix": [[9, 1, 0], [0, 10, 0], [1, 0, 9]],
        "best_val_acc": best_val_acc,
        "best_epoch": epochs - 1,
        "epochs_run": epochs,
        "train_seconds": 1.5,
        "inference_ms_per_sample": 0.004,
        "eval_batch_size": 512,
        "param_count": 85_002,
        "checkpoint_bytes": 1500,
        "class_names": ["0", "1", "2"],
        "versions": {"dlx": "0.1.0", "torch": "2.13.0+cpu", "lightning": "2.6.6", "python": "3.11.7"},
        "device": "cpu: cpu",
        "git_commit": None,
        "wall_seconds": 2.5,
        **extra,
    }


def write_run(
    run_dir: Path,
    overrides: list[str] = (),
    *,
    minute: int = 0,
    status: str = "completed",
    message: str = "",
    test_acc: float | None = 0.9,
    best_val_acc: float | None = None,
    epochs: int = 3,
    metrics: bool = True,
    extra_report: dict | None = None,
) -> Path:
    """A run as dlx train leaves it; status other than completed: no report.json (the run did not finish)."""
    cfg, choices = composed(tuple(overrides))
    run_dir.mkdir(parents=True)
    (run_dir / ".hydra").mkdir()
    (run_dir / "checkpoints").mkdir()
    config_text = yaml.safe_dump(cfg, sort_keys=False)
    for d in (run_dir, run_dir / ".hydra"):
        (d / "config.yaml").write_text(config_text)
        (d / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    choices = {**choices, "hydra/launcher": "basic"}  # Hydra's own groups are recorded too
    hydra = {"hydra": {"runtime": {"choices": choices}, "overrides": {"task": list(overrides)}}}
    (run_dir / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    best_val_acc = best_val_acc if best_val_acc is not None else (test_acc or 0.5) + 0.01
    if metrics:
        rows = curves(epochs, best_val_acc)
        lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
        (run_dir / "metrics.csv").write_text("\n".join(lines) + "\n")
    (run_dir / "checkpoints" / "best.ckpt").write_bytes(b"\0" * 1500)
    (run_dir / "data.json").write_text(json.dumps({"name": cfg["data"]["_target_"], "sizes": {"train": 100}}))
    if status == "completed" and test_acc is not None:
        body = {**report(test_acc, best_val_acc, epochs), **(extra_report or {})}  # extra_report may replace keys
        (run_dir / "report.json").write_text(json.dumps(body, indent=2))
    (run_dir / "status").write_text(status + ("\n" + message if message else "") + "\n")
    started = T0 + 60 * minute
    os.utime(run_dir / "config.yaml", (started, started))
    return run_dir


def write_sweep(sweep_dir: Path, jobs: list[dict], minute: int = 0) -> Path:
    """runs/multirun/<stamp>/<k>/ for each job (write_run's keyword arguments plus `overrides`), multirun.yaml."""
    for k, job in enumerate(jobs):
        job = dict(job)
        write_run(sweep_dir / str(k), job.pop("overrides"), minute=minute + k, **job)
    (sweep_dir / "multirun.yaml").write_text("hydra:\n  mode: MULTIRUN\n")
    return sweep_dir
