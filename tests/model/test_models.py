import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.model.cnn import cnn
from dlx.model.mlp import mlp
from dlx.model.resnet import resnet


@pytest.mark.parametrize("builder", [mlp, cnn, resnet])
def test_output_is_class_scores(builder):
    net = builder((1, 8, 8), 10)
    assert net(torch.randn(4, 1, 8, 8)).shape == (4, 10)


def test_resnet_depth_adds_residual_blocks():
    shallow, deep = resnet((1, 8, 8), 10, depth=1), resnet((1, 8, 8), 10, depth=3)
    count = lambda net: sum(p.numel() for p in net.parameters())
    blocks = lambda net: sum(type(m).__name__ == "BasicBlock" for m in net.modules())
    assert blocks(shallow) == 3 and blocks(deep) == 9
    assert count(deep) > count(shallow)


def test_residual_block_adds_its_input():
    from dlx.model.resnet import BasicBlock

    block = BasicBlock(4, 4, stride=1, activation="relu").eval()
    for p in block.conv2.parameters():  # zero the residual branch: the block must pass x through (then ReLU)
        torch.nn.init.zeros_(p)
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(block(x), torch.relu(x))


def test_dropout_option_reaches_the_layers():
    net = mlp((1, 8, 8), 10, dropout=0.3)
    assert [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]


@pytest.mark.parametrize("builder", [cnn, resnet])
def test_image_models_refuse_flat_input(builder):
    with pytest.raises(ConfigError, match=r"needs image input \(C, H, W\); the data gives shape \(4,\)"):
        builder((4,), 3)


def test_cnn_refuses_images_too_small_for_its_pooling():
    with pytest.raises(ConfigError, match="at least 16x16.*the data gives 8x8"):
        cnn((1, 8, 8), 10, channels=[8, 16, 32, 64])
