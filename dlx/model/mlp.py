"""Multi-layer perceptron on the flattened input.  dlx train model=mlp model.hidden=[512,256]"""

import math

from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval
from dlx.model.layers import ACTIVATIONS, Activation


def mlp(
    in_shape,
    num_classes,
    hidden: list[PositiveInt] = (256, 128),
    dropout: UnitInterval = 0.0,
    batch_norm: bool = False,
    activation: Activation = "relu",
) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(in_shape)
    for h in hidden:
        layers += [
            nn.Linear(width, h),
            nn.BatchNorm1d(h) if batch_norm else nn.Identity(),
            ACTIVATIONS[activation](),
            nn.Dropout(dropout),
        ]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
