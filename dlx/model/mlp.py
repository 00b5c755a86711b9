"""Multi-layer perceptron on the flattened input: `depth` hidden layers of `width` units.

dlx train model=mlp model.width=512 model.depth=3
"""

import math

from torch import nn

from dlx.config.schema import NonNegativeInt, PositiveInt, UnitInterval, with_common_options
from dlx.model.common import finish_model
from dlx.model.layers import ACTIVATIONS, Activation, Net, Norm, feature_norm


@with_common_options(finish_model)
def mlp(
    in_shape,
    num_classes,
    width: PositiveInt = 256,
    depth: NonNegativeInt = 2,
    dropout: UnitInterval = 0.0,
    norm: Norm = "none",
    activation: Activation = "relu",
) -> Net:
    layers: list[nn.Module] = [nn.Flatten()]  # (B, *in_shape) -> (B, F)
    features = math.prod(in_shape)
    for _ in range(depth):
        layers += [
            nn.Linear(features, width),
            feature_norm(norm, width),
            ACTIVATIONS[activation](),
            nn.Dropout(dropout),
        ]
        features = width
    return Net(nn.Sequential(*layers), nn.Linear(features, num_classes))  # hidden layers already drop out
