"""VGG-style CNN: `depth` blocks of 3x3 conv-norm-act, each ending in a 2x max-pool; channels start at `width`
and double per block.  Images (C, H, W) get 2-D convs, signals (C, L) 1-D convs.  dlx train model=cnn model.width=16
"""

import math

from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval, with_common_options
from dlx.model.common import finish_model
from dlx.model.layers import Activation, Net, Norm, classifier, conv_dims, conv_norm_act, max_pool


@with_common_options(finish_model)
def cnn(
    in_shape,
    num_classes,
    width: PositiveInt = 32,
    depth: PositiveInt = 2,
    convs_per_block: PositiveInt = 1,
    dropout: UnitInterval = 0.0,
    norm: Norm = "batch",
    activation: Activation = "relu",
) -> Net:
    dims = conv_dims("cnn", in_shape, halvings=depth)
    c, size = in_shape[0], list(in_shape[1:])
    layers: list[nn.Module] = []
    for block in range(depth):
        for _ in range(convs_per_block):
            layers.append(conv_norm_act(dims, c, width * 2**block, norm=norm, activation=activation))
            c = width * 2**block
        layers.append(max_pool(dims))
        size = [s // 2 for s in size]
    layers.append(nn.Flatten())  # (B, C, *size) -> (B, C * prod(size))
    return Net(nn.Sequential(*layers), classifier(c * math.prod(size), num_classes, dropout))
