from pathlib import Path

import pytest

from tests.conftest import build

FAST = ["trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "trainer.progress=false"]


def lrs_after_fit(overrides: list[str], tmp_path: Path) -> list[float]:
    import csv

    exp = build([*overrides, *FAST], tmp_path)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    with open(tmp_path / "metrics.csv") as f:
        return [float(r["lr"]) for r in csv.DictReader(f)]


def test_step_multiplies_by_gamma_every_step_size_epochs(tmp_path: Path):
    lrs = lrs_after_fit(
        ["optim=sgd", "optim.lr=0.1", "sched=step", "sched.step_size=2", "sched.gamma=0.5", "trainer.max_epochs=5"],
        tmp_path,
    )
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_cosine_decays_to_min_lr_over_the_run(tmp_path: Path):
    lrs = lrs_after_fit(["optim.lr=0.01", "sched=cosine", "trainer.max_epochs=4"], tmp_path)
    assert lrs[0] == pytest.approx(0.01) and lrs == sorted(lrs, reverse=True)
    assert lrs[2] == pytest.approx(0.005)  # cos(pi/2): half way


def test_no_schedule_keeps_the_rate(tmp_path: Path):
    assert lrs_after_fit(["optim.lr=0.01", "sched=none", "trainer.max_epochs=3"], tmp_path) == [0.01] * 3
