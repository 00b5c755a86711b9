"""Every conf/model option: its YAML matches its builder; it classifies images, signals and (if it can) vectors."""

import inspect

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from dlx.config.schema import INJECTED
from dlx.config.validate import import_target

MODELS = sorted(p.stem for p in (packaged_conf_dir() / "model").glob("*.yaml"))
CONV = {"cnn", "resnet", "densenet"}
IMAGE, SIGNAL, FLAT = (1, 8, 8), (2, 40), (16,)


def yaml_node(name: str) -> dict:
    return OmegaConf.to_container(OmegaConf.load(packaged_conf_dir() / "model" / f"{name}.yaml"))


def build(name: str, in_shape, num_classes: int = 10, **options) -> nn.Module:
    """The model as `dlx train model=<name> model.<option>=...` builds it."""
    node = yaml_node(name)
    builder = import_target(node.pop("_target_"), "model._target_")
    return builder(**{**node, **options}, in_shape=in_shape, num_classes=num_classes)


def test_all_architectures_are_offered():
    assert set(MODELS) >= {"mlp", "cnn", "resnet", "densenet", "lstm", "gru", "transformer"}


@pytest.mark.parametrize("name", MODELS)
def test_yaml_lists_every_option_with_the_builders_default(name):
    node = yaml_node(name)
    params = inspect.signature(import_target(node.pop("_target_"), "model._target_")).parameters
    assert list(params)[:2] == ["in_shape", "num_classes"]
    assert node == {k: p.default for k, p in params.items() if k not in INJECTED}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("in_shape", [IMAGE, SIGNAL, FLAT], ids=["image", "signal", "flat"])
def test_output_is_class_scores(name, in_shape):
    if name in CONV and in_shape == FLAT:
        with pytest.raises(
            ConfigError,
            match=rf"model={name} needs images \(C, H, W\) or 1-D signals \(C, L\); the data gives shape \(16,\)",
        ):
            build(name, in_shape)
        return
    net = build(name, in_shape, num_classes=3)
    assert net(torch.randn(4, *in_shape)).shape == (4, 3)


@pytest.mark.parametrize("name", MODELS)
def test_dropout_option_reaches_the_layers(name):
    """reg=[dropout] sets model.dropout: every model must take it and use it."""
    ps = {m.p for m in build(name, IMAGE, dropout=0.3).modules() if isinstance(m, nn.Dropout)}
    assert ps == {0.3}


CONV_NORMS = {"batch": (nn.BatchNorm1d, nn.BatchNorm2d), "layer": (nn.GroupNorm,), "none": ()}
ALL_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


@pytest.mark.parametrize("name", sorted(CONV))
@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
@pytest.mark.parametrize("in_shape", [IMAGE, SIGNAL], ids=["image", "signal"])
def test_norm_option_inserts_that_norm(name, norm, in_shape):
    """reg=[batchnorm] sets model.norm to batch or none."""
    kinds = {type(m) for m in build(name, in_shape, norm=norm).modules() if isinstance(m, ALL_NORMS)}
    expected = {k for k in CONV_NORMS[norm] if norm != "batch" or k.__name__.endswith(f"{len(in_shape) - 1}d")}
    assert kinds == expected
    if norm == "layer":  # GroupNorm with one group: normalizes over (C, *spatial) like LayerNorm
        assert {m.num_groups for m in build(name, in_shape, norm=norm).modules() if isinstance(m, nn.GroupNorm)} == {1}


@pytest.mark.parametrize(("norm", "kind"), [("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm), ("none", None)])
def test_mlp_norm_option(norm, kind):
    kinds = [type(m) for m in build("mlp", IMAGE, norm=norm, depth=3).modules() if isinstance(m, ALL_NORMS)]
    assert kinds == ([kind] * 3 if kind else [])


@pytest.mark.parametrize("name", sorted(CONV))
def test_conv_models_use_1d_convs_on_signals(name):
    convs = {type(m) for m in build(name, SIGNAL).modules() if isinstance(m, nn.Conv1d | nn.Conv2d)}
    assert convs == {nn.Conv1d}


@pytest.mark.parametrize("name", [m for m in MODELS if "activation" in yaml_node(m)])  # lstm/gru have none
def test_activation_option(name):
    net = build(name, IMAGE, activation="tanh")
    assert any(isinstance(m, nn.Tanh) for m in net.modules())
    assert not any(isinstance(m, nn.ReLU | nn.GELU) for m in net.modules())
