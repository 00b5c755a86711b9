import pytest
import torch

from dlx.model.resnet import BasicBlock, resnet


def blocks(net) -> int:
    return sum(isinstance(m, BasicBlock) for m in net.modules())


def test_depth_is_residual_blocks_per_stage():
    assert blocks(resnet(in_shape=(1, 8, 8), num_classes=10, depth=1)) == 3
    assert blocks(resnet(in_shape=(1, 8, 8), num_classes=10, depth=3, stages=2)) == 6


def test_stages_double_channels_and_halve_the_size():
    net = resnet(in_shape=(1, 8, 8), num_classes=10, width=4, stages=3)
    feature_maps = []
    for m in net.modules():
        if isinstance(m, BasicBlock):
            m.register_forward_hook(lambda mod, inp, out: feature_maps.append(tuple(out.shape[1:])))
    net(torch.randn(2, 1, 8, 8))
    assert feature_maps == [(4, 8, 8), (8, 4, 4), (16, 2, 2)]


@pytest.mark.parametrize(("dims", "shape"), [(2, (2, 4, 8, 8)), (1, (2, 4, 16))])
def test_zeroed_residual_branch_passes_the_input_through(dims, shape):
    block = BasicBlock(dims, 4, 4, stride=1, norm="batch", activation="relu").eval()
    for p in block.conv2.parameters():  # residual branch outputs 0: the block must give act(x + 0)
        torch.nn.init.zeros_(p)
    x = torch.randn(shape)
    assert torch.allclose(block(x), torch.relu(x))


def test_shortcut_projects_when_the_shape_changes():
    block = BasicBlock(2, 4, 8, stride=2, norm="none", activation="relu")
    assert block(torch.randn(2, 4, 8, 8)).shape == (2, 8, 4, 4)
    assert not isinstance(block.shortcut, torch.nn.Identity)
