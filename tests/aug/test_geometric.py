"""What rotate, zoom, crop and cutout do to an image, checked against exact expectations."""

import pytest
import torch
import torch.nn.functional as F

from dlx.aug.crop import Crop
from dlx.aug.cutout import Cutout
from dlx.aug.rotate import Rotate, rotate
from dlx.aug.zoom import Zoom


def test_rotate_by_90_is_rot90_counterclockwise_and_180_flips_non_square_images():
    x = torch.randn(4, 2, 8, 8)
    assert torch.allclose(rotate(x, torch.full((4,), 90.0)), x.rot90(1, (-2, -1)), atol=1e-5)
    tall = torch.randn(4, 2, 6, 10)
    assert torch.allclose(rotate(tall, torch.full((4,), 180.0)), tall.flip(-1, -2), atol=1e-5)


def test_rotate_angles_stay_within_degrees():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 33, 33)
    x[:, :, 16, 16:] = 1  # a ray from the center to the right edge
    out = Rotate(p=1.0, degrees=30.0)(x)
    ys, xs = torch.meshgrid(torch.arange(33.0) - 16, torch.arange(33.0) - 16, indexing="ij")
    w = out[:, 0].clamp(min=0)
    angle = torch.atan2(-(w * ys).sum((1, 2)), (w * xs).sum((1, 2))).rad2deg()  # y grows downwards
    assert angle.abs().max() <= 31 and angle.std() > 10


def test_zoom_magnifies_by_the_drawn_scale():
    """A horizontal ramp x[..., j] = j keeps its form; its slope is the box width, sqrt(area * aspect)."""
    torch.manual_seed(0)
    ramp = torch.arange(32.0).expand(64, 1, 32, 32).contiguous()
    out = Zoom(p=1.0, scale=(0.25, 0.64), ratio=(1, 1))(ramp)
    slope = out[:, 0, :, 4:28].diff(dim=-1).mean((1, 2))
    assert slope.min() > 0.5 - 1e-4 and slope.max() < 0.8 + 1e-4 and slope.std() > 0.02
    assert (out >= 0).all() and (out <= 31).all()  # the box lies inside the image


@pytest.mark.parametrize("bad", [{"scale": (0.9, 0.5)}, {"scale": (0.5, 1.5)}, {"ratio": (0, 1)}, {"scale": (1,)}])
def test_zoom_rejects_bad_ranges(bad):
    with pytest.raises(ValueError, match="scale|ratio"):
        Zoom(**bad)


def test_crop_is_a_shifted_copy_padded_with_zeros():
    torch.manual_seed(0)
    P = 3
    x = torch.randn(64, 2, 8, 8) + 10  # no pixel is 0, so padding is visible
    out = Crop(p=1.0, padding=P)(x)
    padded = F.pad(x, (P, P, P, P))
    windows = [(dy, dx) for dy in range(2 * P + 1) for dx in range(2 * P + 1)]
    offsets = []
    for o, s in zip(out, padded, strict=True):
        found = [(dy, dx) for dy, dx in windows if torch.equal(o, s[:, dy : dy + 8, dx : dx + 8])]
        assert len(found) == 1
        offsets += found
    assert len(set(offsets)) > 20  # 49 possible offsets, drawn per sample


def test_cutout_zeroes_one_box_of_the_expected_size():
    torch.manual_seed(0)
    x = torch.ones(64, 3, 10, 20)
    out = Cutout(p=1.0, size=0.4)(x)  # a 4 x 8 box
    hole = out == 0  # (B, C, H, W)
    assert torch.equal(hole, hole[:, :1].expand_as(hole)), "the same box in every channel"
    rows, cols = hole[:, 0].any(2), hole[:, 0].any(1)  # (B, H), (B, W)
    assert (hole[:, 0].sum((1, 2)) == 32).all() and (rows.sum(1) == 4).all() and (cols.sum(1) == 8).all()
    corners = zip(rows.int().argmax(1).tolist(), cols.int().argmax(1).tolist(), strict=True)  # first hole row, col
    assert len(set(corners)) > 20
