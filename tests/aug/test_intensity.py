"""What brightness, contrast, noise, shift and scale do to a batch, checked per sample."""

import pytest
import torch

from dlx.aug.color import Brightness, Contrast
from dlx.aug.noise import Noise
from dlx.aug.signal import Scale, Shift


def test_brightness_adds_one_offset_per_image_within_amount():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    delta = (Brightness(p=1.0, amount=0.3)(x) - x).flatten(1)  # (B, C*H*W)
    assert torch.allclose(delta, delta[:, :1].expand_as(delta), atol=1e-6)
    assert delta.abs().max() <= 0.3 + 1e-6 and delta[:, 0].std() > 0.1


def test_contrast_scales_about_each_image_mean():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8) + torch.randn(64, 1, 1, 1)
    out = Contrast(p=1.0, amount=0.3)(x)
    mean = x.mean((1, 2, 3), keepdim=True)
    assert torch.allclose(out.mean((1, 2, 3), keepdim=True), mean, atol=1e-5)
    factor = ((out - mean) / (x - mean)).flatten(1)
    assert torch.allclose(factor, factor[:, :1].expand_as(factor), atol=1e-3)
    assert factor.min() >= 0.7 - 1e-3 and factor.max() <= 1.3 + 1e-3 and factor[:, 0].std() > 0.1


@pytest.mark.parametrize("shape", [(64, 3, 16, 16), (64, 2, 256)])
def test_noise_has_the_configured_std(shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    assert abs((Noise(p=1.0, std=0.25)(x) - x).std().item() - 0.25) < 0.01


def test_circular_shift_is_a_roll_within_max_shift():
    torch.manual_seed(0)
    x = torch.randn(64, 2, 50)
    out = Shift(p=1.0, max_shift=5)(x)
    shifts = []
    for o, s in zip(out, x, strict=True):
        found = [k for k in range(-5, 6) if torch.equal(o, s.roll(k, -1))]
        assert len(found) == 1
        shifts += found
    assert len(set(shifts)) > 6


def zero_padded_roll(s: torch.Tensor, k: int) -> torch.Tensor:
    """s (C, L) moved k steps right (left for k < 0), with zeros where nothing moved in."""
    source = torch.arange(s.shape[1]) - k
    return s.roll(k, -1) * ((source >= 0) & (source < s.shape[1]))


def test_zero_padded_shift_fills_with_zeros():
    torch.manual_seed(0)
    x = torch.randn(64, 2, 50) + 10  # no sample is 0, so padding is visible
    out = Shift(p=1.0, max_shift=5, padding_mode="zeros")(x)
    shifts = []
    for o, s in zip(out, x, strict=True):
        found = [k for k in range(-5, 6) if torch.equal(o, zero_padded_roll(s, k))]
        assert len(found) == 1
        shifts += found
    assert len(set(shifts)) > 6


def test_scale_multiplies_each_sample_by_one_factor():
    torch.manual_seed(0)
    x = torch.randn(64, 2, 50)
    ratio = (Scale(p=1.0, amount=0.2)(x) / x).flatten(1)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-5)
    assert ratio.min() >= 0.8 - 1e-5 and ratio.max() <= 1.2 + 1e-5 and ratio[:, 0].std() > 0.05
