from collections import Counter

import numpy as np
import torch

from dlx.data.digits import digits
from dlx.data.tensor_data import TensorBatches, stratified_split


def test_split_is_stratified_disjoint_and_seeded():
    y = np.repeat(np.arange(4), [100, 50, 30, 20])
    tr, va, te = stratified_split(y, 0.2, 0.2, seed=1)
    assert len(set(tr) | set(va) | set(te)) == len(y) == len(tr) + len(va) + len(te)
    for part in (tr, va, te):
        share = Counter(y[part])
        for c, n in Counter(y).items():
            assert abs(share[c] / len(part) - n / len(y)) < 0.03
    again = stratified_split(y, 0.2, 0.2, seed=1)
    other = stratified_split(y, 0.2, 0.2, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again, strict=True))
    assert not np.array_equal(te, other[2])


def test_digits_shapes_and_train_only_normalization():
    dm = digits(seed=0)
    assert dm.in_shape == (1, 8, 8) and dm.num_classes == 10
    x_tr = dm.splits["train"][0]
    assert abs(x_tr.mean().item()) < 1e-4 and abs(x_tr.std().item() - 1) < 1e-3
    assert abs(dm.splits["test"][0].mean().item()) > 1e-4  # test split was not used for the statistics
    assert sum(len(y) for _, y in dm.splits.values()) == 1797


def test_batches_cover_the_split_reshuffle_per_epoch_and_repeat_per_seed():
    x, y = torch.arange(10.0).view(10, 1), torch.arange(10)
    epoch = [0]
    batches = TensorBatches(x, y, batch_size=4, shuffle=True, seed=3, epoch_fn=lambda: epoch[0])
    assert len(batches) == 3
    first = torch.cat([b[1] for b in batches])
    assert sorted(first.tolist()) == list(range(10))
    assert all(torch.equal(bx.view(-1), by.float()) for bx, by in batches), "labels stay aligned"
    assert torch.equal(first, torch.cat([b[1] for b in batches])), "same epoch, same order"
    epoch[0] = 1
    assert not torch.equal(first, torch.cat([b[1] for b in batches])), "next epoch, new order"


def test_eval_batches_are_in_order():
    x, y = torch.zeros(5, 1), torch.arange(5)
    assert torch.cat([b[1] for b in TensorBatches(x, y, 2, shuffle=False)]).tolist() == [0, 1, 2, 3, 4]
