"""Imbalance methods: the weights and class proportions they promise, and better minority recall than none."""

from pathlib import Path

import pytest
import torch

from dlx.config.errors import ConfigError
from tests.conftest import build

FAST = ["trainer.progress=false", "trainer.limit_val_batches=1"]
MINORITY = 3


def cut_digits(seed: int, keep: float = 0.05, **options):
    """digits with class 3 cut to `keep` of its training samples (val and test untouched)."""
    from dlx.data.digits import digits

    data = digits(seed=seed, **options)
    x, y = data.splits["train"]
    minority = torch.nonzero(y == MINORITY).ravel()
    dropped = minority[max(1, round(keep * len(minority))) :]
    kept = torch.ones(len(y), dtype=torch.bool)
    kept[dropped] = False
    data.splits["train"] = (x[kept], y[kept])
    return data


CUT = ["data._target_=tests.imbalance.test_imbalance.cut_digits"]


def epoch_labels(exp, epoch: int) -> torch.Tensor:
    batches = exp.data.train_dataloader()
    batches.epoch_fn = lambda: epoch
    return torch.cat([y for _, y in batches])


def test_class_weights_are_inverse_to_training_counts():
    from dlx.imbalance.class_weights import class_weights

    y = torch.tensor([0] * 8 + [1] * 2)
    weights = class_weights().loss_weights(y, 2)
    assert torch.allclose(weights, torch.tensor([10 / (2 * 8), 10 / (2 * 2)]))
    assert torch.allclose(class_weights(power=0.5).loss_weights(y, 2), weights.sqrt())


def test_class_weights_reach_the_loss(tmp_path: Path):
    exp = build(
        ["imbalance=class_weights", *CUT, *FAST, "trainer.max_epochs=1", "trainer.limit_train_batches=1"], tmp_path
    )
    exp.trainer.fit(exp.module, datamodule=exp.data)
    weights = exp.module.class_weights
    assert weights[MINORITY] > 5 * weights[0]  # 5% of the samples: about 20x the weight
    # in one batch, a minority sample pulls on the model weights[3] / weights[0] times harder
    logits = torch.zeros(2, 10, requires_grad=True)
    exp.module.training_loss(logits, torch.tensor([MINORITY, 0])).backward()
    pull = logits.grad.norm(dim=1)
    assert (pull[0] / pull[1]).item() == pytest.approx((weights[MINORITY] / weights[0]).item(), rel=1e-5)


@pytest.mark.parametrize(("method", "side"), [("oversample", max), ("undersample", min)])
def test_resampling_balances_every_epoch_and_redraws(method: str, side, tmp_path: Path):
    exp = build([f"imbalance={method}", *CUT, *FAST], tmp_path)
    counts = torch.bincount(exp.data.train_targets(), minlength=10)
    assert counts[MINORITY] < 0.1 * counts.max()
    first, second = epoch_labels(exp, 0), epoch_labels(exp, 1)
    for labels in (first, second):
        assert torch.bincount(labels, minlength=10).tolist() == [side(counts).item()] * 10
    pools = [exp.data._resample(e) for e in (0, 1, 0)]
    assert torch.equal(pools[0], pools[2]), "the same epoch draws the same samples (resumable)"
    assert not torch.equal(pools[0].sort().values, pools[1].sort().values), "a new draw each epoch"


def test_smote_adds_synthetic_minority_samples_between_neighbours(tmp_path: Path):
    plain = build([*CUT, *FAST], tmp_path / "plain")
    exp = build(["imbalance=smote", "imbalance.k_neighbors=3", *CUT, *FAST], tmp_path / "smote")
    x, y = exp.data.splits["train"]
    counts = torch.bincount(y, minlength=10)
    assert counts.tolist() == [counts.max().item()] * 10
    originals = plain.data.splits["train"][0][plain.data.splits["train"][1] == MINORITY].flatten(1)
    synthetic = x[y == MINORITY].flatten(1)
    assert len(synthetic) > 10 * len(originals)
    # every synthetic sample lies inside the box spanned by the real minority samples
    assert (synthetic >= originals.min(0).values - 1e-5).all() and (synthetic <= originals.max(0).values + 1e-5).all()
    for split in ("val", "test"):
        assert torch.equal(exp.data.splits[split][0], plain.data.splits[split][0])


def test_smote_refuses_more_neighbours_than_the_smallest_class_has(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"imbalance.k_neighbors: is 20 but the smallest training class has \d+"):
        build(["imbalance=smote", "imbalance.k_neighbors=20", *CUT, *FAST], tmp_path)


def minority_recall(method: str, tmp_path: Path) -> float:
    overrides = [f"imbalance={method}", "model=mlp", "trainer.max_epochs=5", "sched=none", *CUT, *FAST]
    if method == "smote":
        overrides.append("imbalance.k_neighbors=3")
    exp = build(overrides, tmp_path / method)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    x = torch.cat([exp.data.splits["val"][0], exp.data.splits["test"][0]])
    y = torch.cat([exp.data.splits["val"][1], exp.data.splits["test"][1]])
    exp.module.eval()
    with torch.no_grad():
        predicted = exp.module.net(x).argmax(1)
    return (predicted[y == MINORITY] == MINORITY).float().mean().item()


def test_every_method_raises_the_minority_recall(tmp_path: Path):
    recall = {m: minority_recall(m, tmp_path) for m in ("none", "class_weights", "oversample", "undersample", "smote")}
    baseline = recall.pop("none")
    assert all(r > baseline + 0.1 for r in recall.values()), (baseline, recall)
