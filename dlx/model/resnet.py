"""Small ResNet for small images: 3x3 stem, stages of basic residual blocks, global average pool.

depth = residual blocks per stage (2 conv layers each); each stage after the first halves H and W.
    dlx train model=resnet model.depth=2
"""

import torch
from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval
from dlx.model.layers import ACTIVATIONS, Activation, conv_bn_act, require_image


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, activation: Activation):
        super().__init__()
        self.conv1 = conv_bn_act(c_in, c_out, stride, activation=activation)
        self.conv2 = nn.Sequential(nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:  # match the residual's shape with a 1x1 projection
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        self.act = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


def resnet(
    in_shape,
    num_classes,
    widths: list[PositiveInt] = (16, 32, 64),
    depth: PositiveInt = 1,
    dropout: UnitInterval = 0.0,
    activation: Activation = "relu",
) -> nn.Module:
    c, _, _ = require_image("resnet", in_shape, min_side=2 ** (len(widths) - 1))
    layers: list[nn.Module] = [conv_bn_act(c, widths[0], activation=activation)]
    c = widths[0]
    for stage, width in enumerate(widths):
        for block in range(depth):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(c, width, stride, activation))
            c = width
    # (B, C, h, w) -> (B, C)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)
