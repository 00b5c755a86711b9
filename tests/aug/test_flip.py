import pytest
import torch

from dlx.aug.flip import Flip, VFlip


@pytest.mark.parametrize(("op", "dim"), [(Flip, -1), (VFlip, -2)])
def test_flip_probability_extremes_and_shape(op, dim):
    x = torch.randn(16, 1, 8, 8)
    assert torch.equal(op(p=0.0)(x), x)
    out = op(p=1.0)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(out, x.flip(dim))


@pytest.mark.parametrize(("op", "dim"), [(Flip, -1), (VFlip, -2)])
def test_flip_draws_per_sample(op, dim):
    torch.manual_seed(0)
    x = torch.randn(64, 1, 8, 8)
    out = op(p=0.5)(x)
    flipped = [torch.equal(o, s.flip(dim)) for o, s in zip(out, x, strict=True)]
    kept = [torch.equal(o, s) for o, s in zip(out, x, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54


def test_flip_is_reproducible_under_a_seed():
    x = torch.randn(32, 1, 8, 8)
    torch.manual_seed(5)
    a = Flip(0.5)(x)
    torch.manual_seed(5)
    assert torch.equal(a, Flip(0.5)(x))
