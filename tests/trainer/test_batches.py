"""An epoch is one Lightning step, and callbacks still see every batch: hooks, step count, restored loaders."""

from pathlib import Path

import lightning.pytorch as L
import torch

from dlx.trainer.batches import batch_loop
from tests.conftest import build

RUN = ["trainer.max_epochs=2", "trainer.limit_train_batches=5", "trainer.limit_val_batches=1", "trainer.progress=false"]


class Record(L.Callback):
    def __init__(self):
        self.starts, self.ends, self.steps = [], [], []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        x, y = batch  # a real (x, y) batch, not the epoch
        self.starts.append((trainer.current_epoch, batch_idx, len(y)))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.ends.append((trainer.current_epoch, batch_idx, bool(torch.isfinite(outputs["loss"]))))

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.steps.append(trainer.global_step)


def test_callbacks_see_every_batch_once_and_the_step_count_is_the_optimizer_steps(tmp_path: Path):
    exp = build(RUN, tmp_path / "run")
    record = Record()
    exp.trainer.callbacks.insert(0, record)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    batch = exp.data.batch_size
    assert record.starts == [(e, i, batch) for e in range(2) for i in range(5)]
    assert record.ends == [(e, i, True) for e in range(2) for i in range(5)]
    assert record.steps == list(range(10)) and exp.trainer.global_step == 10
    assert batch_loop(exp.trainer).batches_per_epoch == 5


def test_after_the_fit_the_data_module_and_callbacks_are_as_they_were(tmp_path: Path):
    exp = build(RUN, tmp_path / "run")
    real = len(exp.data.train_dataloader())
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert len(exp.data.train_dataloader()) == real > 5, "the data module's own loader again, all its batches"
    assert all("on_train_batch_end" not in vars(c) for c in exp.trainer.callbacks), "hooks given back"


def test_a_fraction_limit_takes_that_share_of_the_epochs_batches(tmp_path: Path):
    exp = build(["trainer.max_epochs=1", "trainer.limit_train_batches=0.5", "trainer.progress=false"], tmp_path / "r")
    real = len(exp.data.train_dataloader())
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.global_step == int(real * 0.5)


def test_64_bit_precision_casts_the_batches_to_the_weights_dtype(tmp_path: Path):
    exp = build([*RUN, "trainer.precision=64-true"], tmp_path / "run")
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.global_step == 10
    assert all(p.dtype == torch.float64 for p in exp.module.net.parameters())
