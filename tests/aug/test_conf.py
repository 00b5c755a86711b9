"""conf/aug: every option builds ops named like their YAML key, in YAML order; presets are plain lists of nodes."""

import pytest
import torch
import yaml

from dlx.aug import compose
from dlx.aug.crop import Crop, FlipCrop
from dlx.aug.flip import Flip
from dlx.aug.noise import Noise
from dlx.config.builder import build, options
from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from dlx.config.validate import validate_node

AUG = packaged_conf_dir() / "aug"
NAMES = sorted(p.stem for p in AUG.glob("*.yaml") if p.stem != "none")


def nodes(name: str):
    return options(yaml.safe_load((AUG / f"{name}.yaml").read_text()))


@pytest.mark.parametrize("name", NAMES)
def test_option_nodes_validate_and_build_ops_named_by_their_key(name):
    for key, node in nodes(name):
        validate_node(f"aug.{key}", node)
        op = build(f"aug.{key}", node)
        assert type(op).__name__.lower() == key, "error messages name the op by its class; keep it the YAML key"


def test_standard_is_flip_then_crop_fused_with_identical_results():
    ops = [build(f"aug.{k}", n) for k, n in nodes("standard")]
    assert [type(op) for op in ops] == [Flip, Crop]
    fused = compose(ops)
    assert [type(op) for op in fused] == [FlipCrop]
    x = torch.randn(64, 3, 12, 12)
    for flip_p, crop_p, padding in [(0.5, 1.0, 4), (1.0, 0.5, 2), (0.0, 1.0, 3), (0.5, 0.0, 3), (0.5, 1.0, 0)]:
        fused = compose([Flip(flip_p), Crop(crop_p, padding)])
        torch.manual_seed(3)
        expected = Crop(crop_p, padding)(Flip(flip_p)(x))
        torch.manual_seed(3)
        assert torch.equal(fused(x), expected)
    with pytest.raises(ValueError, match="flip needs images"):
        fused(torch.randn(4, 2, 16))


def test_compose_keeps_order_and_is_none_when_empty():
    ops = [Noise(), Flip(), Noise(), Crop()]
    assert list(compose(ops)) == ops and compose([]) is None


@pytest.mark.parametrize(
    ("name", "key", "bad"),
    [("flip", "p", 1.5), ("crop", "padding", -1), ("zoom", "scale", [0, 2])],
)
def test_out_of_range_options_fail_validation(name, key, bad):
    (node_key, node), *_ = nodes(name)
    with pytest.raises(ConfigError, match=rf"aug\.{name}\.{key}"):
        validate_node(f"aug.{node_key}", {**node, key: bad})
