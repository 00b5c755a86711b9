"""VGG-style CNN: blocks of 3x3 conv-BN-act, each block ends in a 2x2 max-pool.  dlx train model=cnn"""

from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval
from dlx.model.layers import Activation, conv_bn_act, require_image


def cnn(
    in_shape,
    num_classes,
    channels: list[PositiveInt] = (32, 64),
    convs_per_block: PositiveInt = 1,
    dropout: UnitInterval = 0.0,
    batch_norm: bool = True,
    activation: Activation = "relu",
) -> nn.Module:
    c, h, w = require_image("cnn", in_shape, min_side=2 ** len(channels))
    layers: list[nn.Module] = []
    for width in channels:
        for _ in range(convs_per_block):
            layers.append(conv_bn_act(c, width, batch_norm=batch_norm, activation=activation))
            c = width
        layers.append(nn.MaxPool2d(2))
        h, w = h // 2, w // 2
    # (B, C, h, w) -> (B, C*h*w)
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(c * h * w, num_classes)]
    return nn.Sequential(*layers)
