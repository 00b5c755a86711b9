"""The bundled and generated data sets: shapes, labels, splits, and what the pipeline records."""

from pathlib import Path

import numpy as np
import pytest
import torch

from dlx.data import mnist1d as mnist1d_module
from dlx.data.synthetic import synthetic
from dlx.data.tables import breast_cancer, iris, wine
from tests.conftest import build

FAST = ["trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.progress=false"]


@pytest.mark.parametrize(
    ("builder", "n", "features", "classes"),
    [(iris, 150, 4, 3), (wine, 178, 13, 3), (breast_cancer, 569, 30, 2)],
)
def test_bundled_tables(builder, n, features, classes):
    data = builder(seed=0, clean="none")
    assert data.in_shape == (features,) and data.num_classes == classes
    assert sum(len(y) for _, y in data.splits.values()) == n
    assert len(data.feature_names) == features
    x_train = data.splits["train"][0]
    assert torch.allclose(x_train.mean(0), torch.zeros(features), atol=1e-4), "standardized per feature"


def test_iris_holds_a_sample_that_leaks_into_test_and_drop_removes_it():
    kept = iris(seed=0, clean="drop")
    assert kept.info["clean"]["removed"] == {"test_equal_to_train_or_val": {"test": 1}}
    assert len(kept.splits["test"][1]) == len(iris(seed=0, clean="none").splits["test"][1]) - 1


def test_synthetic_has_the_asked_size_classes_imbalance_and_noise():
    data = synthetic(samples=3000, features=8, informative=4, classes=3, imbalance=9.0, seed=0)
    counts = np.array([sum(c) for c in zip(*data.info["class_counts"].values(), strict=True)])
    assert counts.sum() == 3000 and data.in_shape == (8,)
    assert 6 < counts[0] / counts[2] < 12, "largest/smallest near the asked ratio"
    again = synthetic(samples=3000, features=8, informative=4, classes=3, imbalance=9.0, seed=5)
    assert counts.sum() == sum(len(y) for _, y in again.splits.values()), "the run's seed does not change the data"
    clean_y = synthetic(samples=2000, label_noise=0.0, seed=0).splits["train"][1]
    noisy_y = synthetic(samples=2000, label_noise=0.3, seed=0).splits["train"][1]
    assert (clean_y != noisy_y).float().mean() > 0.05, "label noise flips labels"


def test_mnist1d_defaults_give_4000_training_and_1000_test_sequences_of_length_40(tmp_path: Path):
    x, y, n_train = mnist1d_module.generate(tmp_path / "m.npz")
    assert (n_train, len(x) - n_train, x.shape[1]) == (4000, 1000, 40)
    data = mnist1d_module.mnist1d(root=str(tmp_path), val_fraction=0.1, seed=0)
    assert len(data.splits["test"][1]) == 1000, "the official test split is kept"
    assert len(data.splits["train"][1]) + len(data.splits["val"][1]) == 4000
    assert torch.equal(data.splits["test"][1].cpu(), torch.as_tensor(y[4000:])), "test samples in their order"


def test_a_run_records_data_json_and_the_checkpoint_carries_the_statistics(tmp_path: Path):
    import json

    exp = build(["data=iris", "model=mlp", *FAST], tmp_path / "run")
    exp.trainer.fit(exp.module, datamodule=exp.data)
    record = json.loads((tmp_path / "run" / "data.json").read_text())
    assert record["sizes"] == {s: len(y) for s, (_, y) in exp.data.splits.items()}
    assert record["clean"]["removed"] == {"test_equal_to_train_or_val": {"test": 1}}
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    saved = ckpt["InMemoryDataModule"]["normalization"]
    assert torch.equal(saved["shift"], exp.data.normalizer.shift)
    assert record["normalization"]["scale"] == pytest.approx(exp.data.normalizer.scale.tolist())
    assert ckpt["InMemoryDataModule"]["class_names"] == ["setosa", "versicolor", "virginica"]
