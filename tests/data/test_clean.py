import numpy as np
import pytest

from dlx.config.errors import ConfigError
from dlx.data.clean import clean, describe
from dlx.data.source import collect_problems


def table():
    """12 rows x 2 features; rows 0-7 train, 8-9 val, 10-11 test, with planted faults."""
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    y = np.array([0, 1] * 6)
    x[3, 1] = np.nan  # train, non-finite
    x[9, 0] = np.inf  # val, non-finite
    x[5] = x[4]  # train duplicate features ...
    y[5] = y[4]  # ... and label
    x[10] = x[0]  # test sample equal to a training sample: leakage
    x[11] = x[8]  # test sample equal to a val sample
    splits = {"train": np.arange(8), "val": np.array([8, 9]), "test": np.array([10, 11])}
    return x, y, splits


def test_drop_removes_nonfinite_duplicates_and_leakage_and_counts_each():
    x, y, splits = table()
    _, kept, report = clean(x, y, splits, "drop", "t")
    assert kept["train"].tolist() == [0, 1, 2, 4, 6, 7]
    assert kept["val"].tolist() == [8] and kept["test"].tolist() == []
    assert report["removed"] == {
        "nonfinite": {"train": 1, "val": 1, "test": 0},
        "duplicate": {"train": 1, "val": 0, "test": 0},
        "test_equal_to_train_or_val": {"test": 2},
    }
    assert "dropped 1 duplicate samples from train" in describe(report)
    assert "dropped 2 test samples equal to a training or val sample (leakage)" in describe(report)


def test_impute_fills_with_the_training_median_only():
    x, y, splits = table()
    x[11, 1] = np.nan  # a test value: the fill must come from train, whatever test holds
    filled, kept, report = clean(x, y, splits, "impute", "t")
    train_col1 = np.delete(x[:8, 1], 3)  # the finite training values of feature 1
    assert filled[3, 1] == pytest.approx(np.median(train_col1))
    assert filled[11, 1] == pytest.approx(np.median(train_col1))
    assert filled[9, 0] == pytest.approx(np.median(x[:8, 0]))
    assert report["imputed_values"] == {"train": 1, "val": 1, "test": 1}
    assert 3 in kept["train"] and np.isfinite(filled).all()


def test_none_keeps_everything_but_refuses_nonfinite_values_naming_the_column():
    x, y, splits = table()
    with pytest.raises(ConfigError, match=r"2 samples hold NaN or inf \(first: sample 3, column 'b'\); set data.clean"):
        clean(x, y, splits, "none", "t", feature_names=["a", "b"])
    x = np.nan_to_num(x, posinf=0)
    _, kept, _ = clean(x, y, splits, "none", "t")
    assert all(np.array_equal(kept[s], splits[s]) for s in splits)


def test_problems_are_collected_instead_of_raised_inside_collect_problems():
    x, y, splits = table()
    with collect_problems() as found:
        clean(x, y, splits, "none", "t")
    assert len(found) == 1 and "NaN or inf" in found[0]["problem"]
