"""Validation during fit runs in dlx's loop: Lightning's stays out, and hooks, modes, limits and metrics are kept."""

import warnings
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch

from tests.conftest import build

# digits' val split is 270 samples: batches of 64 make 5 of them
RUN = ["trainer.max_epochs=2", "trainer.limit_train_batches=3", "data.eval_batch_size=64", "trainer.progress=false"]
HOOKS = ("on_validation_start", "on_validation_epoch_start", "on_validation_epoch_end", "on_validation_end")


class Record(L.Callback):
    """Every validation hook with the epoch, and what the trainer and module were doing at the time."""

    def __init__(self):
        self.calls, self.seen_at_epoch_end = [], []

    def note(self, name, trainer, pl_module, *extra):
        self.calls.append((name, trainer.current_epoch, trainer.validating, pl_module.net.training, *extra))

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self.note("batch_start", trainer, pl_module, batch_idx, len(batch[1]), torch.is_inference_mode_enabled())

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self.note("batch_end", trainer, pl_module, batch_idx)

    def on_train_epoch_end(self, trainer, pl_module):  # first in the list: before dlx's own callbacks
        acc = trainer.callback_metrics.get("val/acc")
        self.seen_at_epoch_end.append((trainer.current_epoch, None if acc is None else float(acc)))


for _name in HOOKS:
    setattr(Record, _name, lambda self, trainer, pl_module, _n=_name: self.note(_n.removeprefix("on_validation_"),
                                                                                 trainer, pl_module))  # fmt: skip


def fit_recorded(overrides: list[str], run_dir: Path):
    exp = build(overrides, run_dir)
    record = Record()
    exp.trainer.callbacks.insert(0, record)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    return exp, record


def accuracy_by_hand(exp) -> float:
    x, y = exp.data.splits["val"]
    exp.module.net.eval()
    with torch.inference_mode():
        return int((exp.module.net(x).argmax(1) == y).sum()) / len(y)


def test_hooks_run_in_lightnings_order_each_epoch_in_eval_and_inference_mode(tmp_path: Path):
    exp, record = fit_recorded(RUN, tmp_path / "run")
    batches = [(i, 64) for i in range(4)] + [(4, 270 - 4 * 64)]
    for epoch in range(2):
        calls = [c for c in record.calls if c[1] == epoch]
        assert [c[0] for c in calls] == ["start", "epoch_start"] + ["batch_start", "batch_end"] * 5 + [
            "epoch_end",
            "end",
        ]
        assert all(validating and not net_training for _, _, validating, net_training, *_ in calls)
        assert [tuple(c[4:]) for c in calls if c[0] == "batch_start"] == [(i, n, True) for i, n in batches]
    assert exp.trainer.fit_loop.epoch_loop.val_loop.batch_progress.total.completed == 0, "Lightning's loop stayed out"
    assert exp.module.net.training, "train mode again after validation"
    assert exp.trainer.limit_val_batches == 1.0, "the trainer's setting given back after the fit"


def test_every_epoch_end_hook_sees_that_epochs_validation_and_it_is_the_real_accuracy(tmp_path: Path):
    exp, record = fit_recorded(RUN, tmp_path / "run")
    assert [epoch for epoch, _ in record.seen_at_epoch_end] == [0, 1]
    assert abs(exp.module.epoch_metrics["val_acc"] - record.seen_at_epoch_end[-1][1]) < 1e-6  # float32 there
    assert abs(exp.module.epoch_metrics["val_acc"] - accuracy_by_hand(exp)) < 1e-9, "the last weights on the val split"
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and "val_acc" in rows[0], "one metrics row per epoch, with its validation"


def test_a_count_limit_validates_that_many_batches(tmp_path: Path):
    exp, record = fit_recorded([*RUN, "trainer.limit_val_batches=2"], tmp_path / "run")
    assert [c[4] for c in record.calls if c[0] == "batch_start" and c[1] == 0] == [0, 1]
    assert exp.trainer.limit_val_batches == 2


def test_a_frozen_backbones_batch_norm_stays_in_eval_after_validation(tmp_path: Path):
    exp = build([*RUN, "model.freeze=backbone"], tmp_path / "run")
    exp.trainer.fit(exp.module, datamodule=exp.data)
    norms = [m for m in exp.module.net.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and not any(m.training for m in norms)
    assert exp.module.net.head.training


def test_without_validation_there_are_no_val_metrics_and_no_hooks(tmp_path: Path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exp, record = fit_recorded([*RUN, "trainer.limit_val_batches=0"], tmp_path / "run")
    assert record.calls == []
    assert "val_acc" not in exp.module.epoch_metrics
    # no best epoch without validation: last.ckpt is the model, and Lightning's "monitored key" warning stays out
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["last.ckpt"]
    assert not (tmp_path / "run" / "checkpoints" / "last.ckpt").is_symlink()
    assert [str(w.message) for w in caught if "monitored key" in str(w.message)] == []


def test_with_validation_a_missing_val_acc_is_still_warned_about(tmp_path: Path):
    """The silence above is for runs without validation only: one that validates and lacks val/acc hears of it."""
    exp = build([*RUN, "trainer.max_epochs=1"], tmp_path / "run")
    checkpoint = exp.trainer.checkpoint_callback
    with pytest.warns(UserWarning, match="could not find the monitored key"):
        checkpoint._save_topk_checkpoint(exp.trainer, {"val/loss": torch.tensor(0.5), "epoch": torch.tensor(0)})
