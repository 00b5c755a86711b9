"""Every op in conf/aug: shape, dtype, identity at strength 0 and p=0, per-sample randomness, label alignment."""

import pytest
import torch
import yaml

from dlx.aug.color import Brightness, Contrast
from dlx.aug.crop import Crop
from dlx.aug.cutout import Cutout
from dlx.aug.flip import Flip, VFlip
from dlx.aug.noise import Noise
from dlx.aug.rotate import Rotate
from dlx.aug.signal import Scale, Shift
from dlx.aug.zoom import Zoom
from dlx.config.paths import packaged_conf_dir

IMAGES, SIGNALS = (32, 3, 16, 16), (32, 2, 64)
# op: (class, options with a visible effect, options at strength 0 or None when p is the only knob, input shape)
OPS = {
    "flip": (Flip, {}, None, IMAGES),
    "vflip": (VFlip, {}, None, IMAGES),
    "rotate": (Rotate, {"degrees": 20.0}, {"degrees": 0.0}, IMAGES),
    "zoom": (Zoom, {"scale": (0.5, 0.9)}, {"scale": (1, 1), "ratio": (1, 1)}, IMAGES),
    "crop": (Crop, {"padding": 3}, {"padding": 0}, IMAGES),
    "brightness": (Brightness, {"amount": 0.3}, {"amount": 0.0}, IMAGES),
    "contrast": (Contrast, {"amount": 0.3}, {"amount": 0.0}, IMAGES),
    "noise": (Noise, {"std": 0.1}, {"std": 0.0}, IMAGES),
    "noise-signal": (Noise, {"std": 0.1}, {"std": 0.0}, SIGNALS),
    "cutout": (Cutout, {"size": 0.4}, {"size": 0.0}, IMAGES),
    "shift": (Shift, {"max_shift": 10}, {"max_shift": 0}, SIGNALS),
    "shift-zeros": (Shift, {"max_shift": 10, "padding_mode": "zeros"}, {"max_shift": 0}, SIGNALS),
    "scale": (Scale, {"amount": 0.3}, {"amount": 0.0}, SIGNALS),
}
NAMES = list(OPS)
FLIPS = {"flip", "vflip"}  # p is their only randomness
WRONG = {4: (8, 2, 64), 3: (8, 1, 8, 8), None: (8,)}  # op.rank -> a batch it must refuse


def make(name: str, p: float = 1.0, strength: bool = True):
    cls, options, zero, _ = OPS[name]
    return cls(p=p, **(options if strength else zero))


def batch(name: str, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(OPS[name][3], dtype=dtype)


def changed(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) True where sample b differs from its input."""
    return (out != x).flatten(1).any(1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_keeps_shape_and_dtype(name, dtype):
    x = batch(name, dtype)
    out = make(name, p=0.5)(x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


@pytest.mark.parametrize("name", NAMES)
def test_identity_at_p_0_and_strength_0(name):
    x = batch(name)
    assert torch.equal(make(name, p=0.0)(x), x)
    if OPS[name][2] is not None:
        assert torch.equal(make(name, strength=False)(x), x)


@pytest.mark.parametrize("name", NAMES)
def test_changes_every_sample_at_p_1(name):
    torch.manual_seed(0)
    x = batch(name)
    # crop and shift can draw a zero offset: (1 / 7^2, 1 / 21 chance per sample)
    assert changed(make(name)(x), x).float().mean() > 0.8


@pytest.mark.parametrize("name", NAMES)
def test_p_is_drawn_per_sample(name):
    torch.manual_seed(0)
    x = batch(name)
    share = changed(make(name, p=0.5)(x), x).float().mean()
    assert 0.2 < share < 0.8


@pytest.mark.parametrize("name", sorted(set(NAMES) - FLIPS))
def test_each_sample_gets_its_own_parameters(name):
    torch.manual_seed(0)
    x = batch(name)[:1].expand(OPS[name][3]).contiguous()  # one sample, repeated
    out = make(name)(x)
    assert len({tuple(o.flatten().tolist()) for o in out}) > len(x) // 4


@pytest.mark.parametrize("name", NAMES)
def test_reproducible_under_a_seed(name):
    x = batch(name)
    torch.manual_seed(7)
    a = make(name, p=0.5)(x)
    torch.manual_seed(7)
    assert torch.equal(a, make(name, p=0.5)(x))


@pytest.mark.parametrize("name", NAMES)
def test_sample_i_stays_derived_from_input_i(name):
    """Labels stay aligned: sample i is tagged by its level 2**(i+1); the output's median keeps the tag."""
    torch.manual_seed(0)
    shape = OPS[name][3]
    levels = 2.0 ** torch.arange(1, shape[0] + 1)
    x = levels.view(-1, *[1] * (len(shape) - 1)) * (1 + 0.05 * torch.randn(shape))
    out = make(name)(x)
    tag = out.flatten(1).median(1).values.log()  # zeros from padding or cutout stay a minority
    nearest = (tag[:, None] - levels.log()[None, :]).abs().argmin(1)
    assert torch.equal(nearest, torch.arange(shape[0]))


@pytest.mark.parametrize("name", NAMES)
def test_wrong_input_rank_raises_a_one_line_value_error(name):
    op = make(name)
    with pytest.raises(ValueError, match=rf"^{type(op).__name__.lower()} needs .* got a batch of shape") as e:
        op(torch.randn(WRONG[op.rank]))
    assert "\n" not in str(e.value)


def test_every_op_in_conf_aug_is_tested_here():
    conf = packaged_conf_dir() / "aug"
    targets = {
        n["_target_"].rsplit(".", 1)[1]
        for p in conf.glob("*.yaml")
        for n in (yaml.safe_load(p.read_text()) or {}).values()
    }
    assert targets <= {cls.__name__ for cls, *_ in OPS.values()}
