from collections import Counter

import numpy as np
import pytest

from dlx.config.errors import ConfigError
from dlx.data.splits import check_every_class_present, split_indices

Y = np.repeat(np.arange(4), [100, 50, 30, 20])  # 200 samples, imbalanced


def shares(y, idx):
    return {c: n / len(idx) for c, n in Counter(y[idx]).items()}


def assert_partition(splits, n):
    together = np.concatenate(list(splits.values()))
    assert len(together) == len(set(together.tolist())) == n, "disjoint and complete"


def test_fractions_are_stratified_disjoint_and_repeat_per_seed():
    s = split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, seed=1)
    assert_partition(s, len(Y))
    assert (len(s["train"]), len(s["val"]), len(s["test"])) == (120, 40, 40)
    for part in s.values():
        for c, share in shares(Y, part).items():
            assert abs(share - shares(Y, np.arange(len(Y)))[c]) < 0.03
    again = split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, seed=1)
    other = split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, seed=2)
    assert all(np.array_equal(s[k], again[k]) for k in s)
    assert not np.array_equal(s["test"], other["test"])


def test_an_official_test_split_is_kept_and_val_comes_from_the_rest():
    official = np.arange(150, 200)
    y = np.tile(np.arange(4), 50)
    s = split_indices(y, {"test": official}, val_fraction=0.1, test_fraction=0.3, seed=0)
    assert np.array_equal(s["test"], official), "test_fraction does not apply to an official split"
    assert len(s["val"]) == 15 and len(s["train"]) == 135
    assert_partition(s, 200)


def test_official_val_and_test_leave_the_pool_to_train():
    y = np.tile(np.arange(2), 50)
    s = split_indices(y, {"val": np.arange(10), "test": np.arange(10, 30)}, val_fraction=0.1, test_fraction=0.1)
    assert np.array_equal(s["train"], np.arange(30, 100))


@pytest.mark.parametrize(("subset", "expected"), [(0.5, 100), (40, 40)])
def test_subset_by_fraction_or_count_is_stratified(subset, expected):
    s = split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, subset=subset, seed=0)
    total = sum(len(v) for v in s.values())
    assert total == expected
    kept = np.concatenate(list(s.values()))
    assert set(Counter(Y[kept])) == {0, 1, 2, 3}, "every class kept"
    assert abs(shares(Y, kept)[0] - 0.5) < 0.06


def test_subset_shrinks_an_official_test_split_by_the_same_share():
    y = np.tile(np.arange(4), 100)
    s = split_indices(y, {"test": np.arange(300, 400)}, val_fraction=0.1, test_fraction=0.2, subset=0.5, seed=0)
    assert len(s["test"]) == 50 and len(s["train"]) + len(s["val"]) == 150


def test_subset_count_larger_than_the_data_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^data.subset: 5000 is not a count of at most 200"):
        split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, subset=5000)


def test_k_folds_hold_test_out_and_rotate_val_over_the_rest():
    folds = [split_indices(Y, {}, val_fraction=0.2, test_fraction=0.2, folds=4, fold=i, seed=3) for i in range(4)]
    tests = {tuple(f["test"]) for f in folds}
    assert len(tests) == 1, "the test split is the same for every fold"
    vals = np.concatenate([f["val"] for f in folds])
    pool = np.setdiff1d(np.arange(len(Y)), folds[0]["test"])
    assert np.array_equal(np.sort(vals), pool), "each non-test sample is in val exactly once"
    for f in folds:
        assert_partition(f, len(Y))
        assert set(Counter(Y[f["val"]])) == {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"folds": 3, "fold": 3}, r"^data.fold: fold=3 is not one of 0..2"),
        ({"fold": 1}, r"^data.fold: fold=1 needs data.folds > 1"),
        ({"folds": 40}, r"^data.folds: folds=40 needs at least 40 samples of every class"),
        ({"test_fraction": 0.01}, r"^data.test_fraction: 0.01 of 200 samples cannot be stratified"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, r"^data.val_fraction: val_fraction \+ test_fraction must be < 1"),
    ],
)
def test_impossible_splits_are_config_errors_naming_the_key(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        split_indices(Y, {}, **{"val_fraction": 0.2, "test_fraction": 0.2, **kwargs})


def test_a_class_left_empty_is_named():
    y = np.array([0] * 50 + [1] * 50 + [2])
    splits = {"train": np.arange(101), "val": np.arange(0, 100, 10), "test": np.arange(5, 100, 10)}
    with pytest.raises(ConfigError, match=r"^data.val_fraction: the val split has no sample of class 'c'"):
        check_every_class_present(y, splits, ["a", "b", "c"], fixed=set())
    check_every_class_present(y, splits, ["a", "b", "c"], fixed={"val", "test"})  # official splits are as shipped
