"""Every schedule's learning rate, recorded at each optimizer step of a real short fit, against its closed form."""

import csv
from math import cos, pi
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch
from omegaconf import OmegaConf

from dlx.config.builder import build as build_node
from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from tests.conftest import build

T, S, LR = 6, 3, 0.1  # epochs, optimizer steps per epoch, optim.lr
RUN = [f"trainer.max_epochs={T}", f"trainer.limit_train_batches={S}", "trainer.limit_val_batches=1"]
FAST = ["model=mlp", "optim=sgd", f"optim.lr={LR}", "trainer.progress=false"]


class RecordLR(L.Callback):
    """The rate each optimizer step uses: Lightning steps schedulers after the batch."""

    def __init__(self):
        self.lrs: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def fit_trace(overrides: list[str], run_dir: Path) -> tuple[list[float], list[float]]:
    """(lr at every optimizer step, the lr column of metrics.csv) for a fit with these overrides."""
    exp = build([*FAST, *overrides], run_dir)
    record = RecordLR()
    exp.trainer.callbacks.append(record)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    with open(run_dir / "metrics.csv") as f:
        return record.lrs, [float(r["lr"]) for r in csv.DictReader(f)]


def per_epoch(lr_at_epoch) -> list[float]:
    return [lr_at_epoch(e) for e in range(T) for _ in range(S)]


def per_step(lr_at_step) -> list[float]:
    return [lr_at_step(t) for t in range(T * S)]


def ramp(t: int, warmup: int, top: float) -> float:
    return top * (t + 1) / (warmup + 1)


def cosine(t: int, n: int, top: float, bottom: float = 0.0) -> float:
    return bottom + (top - bottom) * (1 + cos(pi * t / n)) / 2


def one_cycle(t: int, n: int, peak: float, pct: float = 0.3, div: float = 25.0, final: float = 1e4) -> float:
    """torch's OneCycleLR (cosine): up from peak/div over pct·n - 1 steps, then down to peak/div/final at n - 1."""
    up = pct * n - 1
    if t <= up:
        return cosine(t, up, peak / div, peak)
    return cosine(t - up, n - 1 - up, peak, peak / div / final)


CASES = [
    pytest.param(["sched=none"], per_epoch(lambda e: LR), id="none"),
    pytest.param(
        ["sched=step", "sched.step_size=2", "sched.gamma=0.5"], per_epoch(lambda e: LR * 0.5 ** (e // 2)), id="step"
    ),
    pytest.param(
        ["sched=multistep", "sched.milestones=[2,5]", "sched.gamma=0.5"],
        per_epoch(lambda e: LR * 0.5 ** ((e >= 2) + (e >= 5))),
        id="multistep",
    ),
    pytest.param(["sched=exponential", "sched.gamma=0.8"], per_epoch(lambda e: LR * 0.8**e), id="exponential"),
    pytest.param(
        ["sched=time_based", "sched.decay_rate=0.5"], per_epoch(lambda e: LR / (1 + 0.5 * e)), id="time_based"
    ),
    pytest.param(["sched=polynomial", "sched.power=2"], per_epoch(lambda e: LR * (1 - e / T) ** 2), id="polynomial"),
    pytest.param(["sched=cosine", "sched.min_lr=0.01"], per_epoch(lambda e: cosine(e, T, LR, 0.01)), id="cosine"),
    pytest.param(
        ["sched=onecycle", "sched.max_lr_factor=2"], per_step(lambda t: one_cycle(t, T * S, 2 * LR)), id="onecycle"
    ),
    pytest.param(
        ["sched=warmup", "sched.warmup_epochs=2"], per_epoch(lambda e: ramp(e, 2, LR) if e < 2 else LR), id="warmup"
    ),
    pytest.param(
        ["sched=cosine", "sched.warmup_epochs=2"],
        per_epoch(lambda e: ramp(e, 2, LR) if e < 2 else cosine(e - 2, T - 2, LR)),
        id="warmup+cosine",
    ),
    pytest.param(  # milestones count from the end of the warmup
        ["sched=multistep", "sched.warmup_epochs=1", "sched.milestones=[2]", "sched.gamma=0.5"],
        per_epoch(lambda e: ramp(e, 1, LR) if e < 1 else LR * 0.5 ** (e - 1 >= 2)),
        id="warmup+multistep",
    ),
    pytest.param(  # a warmup before a per-batch schedule ramps per batch, up to onecycle's starting rate
        ["sched=onecycle", "sched.warmup_epochs=1"],
        per_step(lambda t: ramp(t, S, LR / 25) if t < S else one_cycle(t - S, (T - 1) * S, LR)),
        id="warmup+onecycle",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_lr_at_every_step_matches_the_closed_form(overrides, expected, tmp_path: Path):
    lrs, csv_lrs = fit_trace([*overrides, *RUN], tmp_path)
    assert lrs == pytest.approx(expected, rel=1e-6)
    assert csv_lrs == pytest.approx(expected[::S], rel=1e-6)  # metrics.csv: the rate at each epoch's start


def test_a_warmup_longer_than_the_run_ends_on_the_ramp(tmp_path: Path):
    run = ["trainer.max_epochs=2", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]
    lrs, _ = fit_trace(["sched=warmup", "sched.warmup_epochs=3", *run], tmp_path)
    assert lrs == pytest.approx([LR / 4, LR / 2])


SCHEDS = sorted(p.stem for p in (packaged_conf_dir() / "sched").glob("*.yaml") if p.stem != "none")


def sched_node(name: str, **overrides) -> dict:
    return {**OmegaConf.to_container(OmegaConf.load(packaged_conf_dir() / "sched" / f"{name}.yaml")), **overrides}


@pytest.mark.parametrize("name", SCHEDS)
def test_builder_returns_a_lightning_scheduler_config(name):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    config = build_node("sched", sched_node(name), optimizer=optimizer, total_epochs=T, steps_per_epoch=S)
    assert isinstance(config["scheduler"], torch.optim.lr_scheduler.LRScheduler)
    assert config["interval"] == ("step" if name == "onecycle" else "epoch")


def test_onecycle_cannot_cycle_the_momentum_of_an_optimizer_without_one():
    optimizer = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ConfigError, match=r"sched.cycle_momentum: Adagrad has no momentum"):
        node = sched_node("onecycle", cycle_momentum=True)
        build_node("sched", node, optimizer=optimizer, total_epochs=T, steps_per_epoch=S)
