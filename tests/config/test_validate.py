"""Configs are checked against builder signatures without building anything."""

import pytest

from dlx.config.errors import ConfigError
from dlx.config.validate import validate_config, validate_node
from tests.conftest import compose_config


def test_default_config_validates():
    cfg, _ = compose_config([])
    validate_config(cfg)


@pytest.mark.parametrize(
    ("path", "node", "message"),
    [
        ("optim", {"_target_": "dlx.optim.sgd.sgd", "lr_rate": 0.1}, "did you mean 'lr'"),
        ("optim", {"_target_": "dlx.optim.sgd.sgd", "lr": -0.1}, "got -0.1, expected a value with 0 < x"),
        ("model", {"_target_": "dlx.model.cnn.cnn", "dropout": 1.5}, "model.dropout: got 1.5"),
        ("trainer", {"_target_": "dlx.trainer.trainer", "max_epochs": 0}, "trainer.max_epochs: got 0"),
        ("trainer", {"_target_": "dlx.trainer.trainer", "max_epochs": "ten"}, "expected an integer"),
        ("model", {"_target_": "dlx.model.cnn.cnn", "width": "x"}, "model.width: got 'x', expected an integer"),
        ("model", {"_target_": "dlx.model.mlp.mlp", "activation": "swish"}, "one of 'relu'"),
        ("model", {"_target_": "dlx.model.mlp.mlp", "in_shape": [1, 8, 8]}, "derived from the rest"),
        ("model", {"_target_": "dlx.model.nope.nope"}, "cannot be imported"),
    ],
)
def test_bad_values_name_the_key(path, node, message):
    with pytest.raises(ConfigError) as err:
        validate_node(path, node)
    assert message in str(err.value)
    assert str(err.value).startswith(path)


def test_int_accepted_where_float_expected_but_bool_is_not():
    validate_node("optim", {"_target_": "dlx.optim.sgd.sgd", "lr": 1})
    with pytest.raises(ConfigError, match="expected a number"):
        validate_node("optim", {"_target_": "dlx.optim.sgd.sgd", "lr": True})


def test_nested_list_groups_are_validated():
    cfg, _ = compose_config(["reg=[l2,dropout]", "reg.dropout.p=2.0"])
    with pytest.raises(ConfigError, match=r"reg\.dropout\.p: got 2\.0"):
        validate_config(cfg)
