"""Small ResNet: 3x3 stem, `stages` stages of `depth` basic residual blocks, global average pool.

Channels start at `width` and double per stage; each stage after the first halves the size.
Images (C, H, W) get 2-D convs, signals (C, L) 1-D convs.
    dlx train model=resnet model.depth=2
"""

import torch
from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval, with_common_options
from dlx.model.common import finish_model
from dlx.model.layers import (
    ACTIVATIONS,
    Activation,
    Net,
    Norm,
    classifier,
    conv,
    conv_dims,
    conv_norm,
    conv_norm_act,
    global_avg_pool,
)


class BasicBlock(nn.Module):
    """act(residual(x) + shortcut(x)): two 3x3 convs on the residual branch."""

    def __init__(self, dims: int, c_in: int, c_out: int, stride: int, norm: Norm, activation: Activation):
        super().__init__()
        self.conv1 = conv_norm_act(dims, c_in, c_out, stride, norm, activation)
        self.conv2 = nn.Sequential(conv(dims, c_out, c_out, bias=norm == "none"), conv_norm(dims, norm, c_out))
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:  # match the residual's shape with a 1x1 projection
            self.shortcut = nn.Sequential(
                conv(dims, c_in, c_out, kernel=1, stride=stride, bias=norm == "none"), conv_norm(dims, norm, c_out)
            )
        self.act = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


@with_common_options(finish_model)
def resnet(
    in_shape,
    num_classes,
    width: PositiveInt = 16,
    stages: PositiveInt = 3,
    depth: PositiveInt = 1,
    dropout: UnitInterval = 0.0,
    norm: Norm = "batch",
    activation: Activation = "relu",
) -> Net:
    dims = conv_dims("resnet", in_shape, halvings=stages - 1)
    layers: list[nn.Module] = [conv_norm_act(dims, in_shape[0], width, norm=norm, activation=activation)]
    c = width
    for stage in range(stages):
        for block in range(depth):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(dims, c, width * 2**stage, stride, norm, activation))
            c = width * 2**stage
    layers.append(global_avg_pool(dims))
    return Net(nn.Sequential(*layers), classifier(c, num_classes, dropout))
