import torch
from torch import nn

from dlx.model.densenet import DenseLayer, densenet


def test_dense_layer_adds_growth_channels_and_keeps_its_input():
    layer = DenseLayer(2, c_in=10, growth=4, norm="batch", activation="relu")
    x = torch.randn(2, 10, 8, 8)
    out = layer(x)
    assert out.shape == (2, 14, 8, 8)
    assert torch.equal(out[:, :10], x)  # later layers see every earlier feature map unchanged


def test_each_layer_sees_all_earlier_feature_maps_of_its_block():
    net = densenet(in_shape=(1, 8, 8), num_classes=10, growth=4, depth=3, blocks=2)
    seen = [m.new[2].in_channels for m in net.modules() if isinstance(m, DenseLayer)]
    # stem gives 2*growth = 8; each layer adds 4; the transition halves 20 to 10
    assert seen == [8, 12, 16, 10, 14, 18]


def test_transitions_halve_channels_and_size_between_blocks():
    net = densenet(in_shape=(1, 16), num_classes=10, growth=4, depth=2, blocks=3)
    pools = [m for m in net.modules() if isinstance(m, nn.AvgPool1d)]
    assert len(pools) == 2  # blocks - 1
    sizes = []
    for pool in pools:
        pool.register_forward_hook(lambda mod, inp, out: sizes.append(tuple(out.shape[1:])))
    # channels: stem 8, +2*4 per block = 16, halved to 8 by each transition; length 16 -> 8 -> 4
    assert net.backbone(torch.randn(2, 1, 16)).shape == (2, 16)
    assert sizes == [(8, 8), (8, 4)]
