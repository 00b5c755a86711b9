"""Each regularizer changes what it says it changes."""

from pathlib import Path

import torch

from tests.conftest import build

FAST = ["trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.progress=false"]


def test_l2_decays_weights_but_not_biases(tmp_path: Path):
    exp = build(["reg=[l2]", "reg.l2.weight_decay=0.01", *FAST], tmp_path)
    groups = exp.module.configure_optimizers()["optimizer"].param_groups
    decayed = {id(p) for g in groups if g["weight_decay"] == 0.01 for p in g["params"]}
    for name, p in exp.module.net.named_parameters():
        assert (id(p) in decayed) == (p.dim() > 1), name


def test_no_l2_means_no_decay(tmp_path: Path):
    exp = build(FAST, tmp_path)
    groups = exp.module.configure_optimizers()["optimizer"].param_groups
    assert all(g["weight_decay"] == 0 for g in groups)


def test_label_smoothing_reaches_the_loss(tmp_path: Path):
    exp = build(["reg=[label_smoothing]", "reg.label_smoothing.smoothing=0.2", *FAST], tmp_path)
    assert exp.module.loss_fn.label_smoothing == 0.2
    logits = torch.tensor([[20.0, -20.0]])
    assert exp.module.loss_fn(logits, torch.tensor([0])).item() > 0.05  # a confident right answer still costs


def test_dropout_sets_the_models_dropout(tmp_path: Path):
    exp = build(["model=mlp", "reg=[dropout]", "reg.dropout.p=0.4", *FAST], tmp_path)
    ps = [m.p for m in exp.module.net.modules() if isinstance(m, torch.nn.Dropout)]
    assert ps and all(p == 0.4 for p in ps)


def test_early_stopping_ends_training_early(tmp_path: Path):
    # min_delta=1.0 makes any improvement too small: stop after patience epochs without one
    exp = build(
        [
            "reg=[early_stopping]",
            "reg.early_stopping.patience=2",
            "reg.early_stopping.min_delta=1.0",
            "trainer.max_epochs=20",
            *FAST,
        ],
        tmp_path,
    )
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.current_epoch == 3  # epoch 0 sets the baseline, then 2 epochs without improvement
