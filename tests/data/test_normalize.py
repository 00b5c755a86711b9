import numpy as np
import pytest
import torch

from dlx.data.normalize import Normalizer
from dlx.data.prepare import in_memory
from dlx.data.source import Source

OPTIONS = dict(batch_size=8, eval_batch_size=64, val_fraction=0.2, test_fraction=0.2, subset=None, folds=1, fold=0)


def images(n=100):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3, 4, 4)).astype(np.float32) * np.array([1, 5, 10], dtype=np.float32)[:, None, None]
    return Source(x + np.array([0, 3, -7], dtype=np.float32)[:, None, None], np.arange(n) % 2, ["a", "b"], "img")


def test_standard_is_per_channel_for_images_and_per_feature_for_tables():
    x = images().x
    norm = Normalizer.fit("standard", x)
    assert norm.shift.shape == (3,)
    expected_mean = x.transpose(1, 0, 2, 3).reshape(3, -1).mean(1)
    expected_std = x.transpose(1, 0, 2, 3).reshape(3, -1).std(1)
    assert torch.allclose(norm.shift, torch.tensor(expected_mean), atol=1e-5)
    assert torch.allclose(norm.scale, torch.tensor(expected_std), atol=1e-4)
    out = norm(torch.tensor(x))
    assert torch.allclose(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    table = np.stack([np.linspace(0, 1, 50), np.linspace(10, 30, 50)], 1).astype(np.float32)  # (N, F)
    assert Normalizer.fit("standard", table).shift.tolist() == pytest.approx([0.5, 20.0])


def test_minmax_maps_the_training_range_to_unit_interval_and_none_is_identity():
    x = images().x
    out = Normalizer.fit("minmax", x)(torch.tensor(x))
    assert out.amin((0, 2, 3)).tolist() == pytest.approx([0, 0, 0], abs=1e-6)
    assert out.amax((0, 2, 3)).tolist() == pytest.approx([1, 1, 1], abs=1e-6)
    assert torch.equal(Normalizer.fit("none", x)(torch.tensor(x)), torch.tensor(x))


def test_a_constant_feature_stays_finite():
    x = np.ones((10, 2), dtype=np.float32)
    for method in ("standard", "minmax"):
        assert torch.isfinite(Normalizer.fit(method, x)(torch.tensor(x))).all()


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_statistics_come_from_the_training_split_only(method):
    source = images()
    clean_data = in_memory(source, clean="none", normalize=method, seed=0, **OPTIONS)
    poisoned = images()
    poisoned.x[np.setdiff1d(np.arange(100), train_indices(source))] = 1e6  # outliers in every val/test sample
    leaky = in_memory(poisoned, clean="none", normalize=method, seed=0, **OPTIONS)
    assert leaky.normalizer.same_as(clean_data.normalizer), "val/test values never reach the statistics"
    train_x = source.x[train_indices(source)]
    expected = Normalizer.fit(method, train_x)
    assert torch.allclose(clean_data.normalizer.shift, expected.shift)
    assert torch.allclose(clean_data.normalizer.scale, expected.scale)


def train_indices(source):
    from dlx.data.splits import split_indices

    return split_indices(source.y, {}, val_fraction=0.2, test_fraction=0.2, seed=0)["train"]


def test_the_data_module_state_carries_the_statistics_and_reapplies_saved_ones():
    data = in_memory(images(), clean="none", normalize="standard", seed=0, **OPTIONS)
    state = data.state_dict()
    assert torch.equal(state["normalization"]["shift"], data.normalizer.shift)
    raw_val = data.normalizer.undo(data.splits["val"][0])
    other = Normalizer("standard", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 2.0]))
    data.load_state_dict({**state, "normalization": other.state_dict()})
    assert torch.allclose(data.splits["val"][0], other(raw_val), atol=1e-4), "the checkpoint's statistics apply"
