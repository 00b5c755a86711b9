import pytest
import torch
from torch import nn

from dlx.config.errors import ConfigError
from dlx.model.cnn import cnn


def test_default_is_two_blocks_of_32_and_64_channels_with_batchnorm_and_relu():
    net = cnn(in_shape=(1, 8, 8), num_classes=10)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 2
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 2
    assert net.head[1].in_features == 64 * 2 * 2  # 8x8 halved twice


def test_width_starts_the_channels_and_depth_adds_doubling_blocks():
    net = cnn(in_shape=(3, 16, 16), num_classes=10, width=8, depth=3, convs_per_block=2)
    assert [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)] == [8, 8, 16, 16, 32, 32]
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.modules()) == 3


def test_signals_get_1d_convs_and_pools():
    net = cnn(in_shape=(1, 40), num_classes=10)
    assert net.backbone(torch.randn(2, 1, 40)).shape == (2, 64 * 10)  # length 40 halved twice


@pytest.mark.parametrize(
    ("in_shape", "message"),
    [
        ((1, 8, 8), "needs images of at least 16x16 .*the data gives 8x8"),
        ((1, 10), "needs signals of length at least 16 .*the data gives 10"),
    ],
)
def test_refuses_input_too_small_for_its_pooling(in_shape, message):
    with pytest.raises(ConfigError, match=f"model=cnn as configured {message}"):
        cnn(in_shape=in_shape, num_classes=10, depth=4)
