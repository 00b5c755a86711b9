"""DenseNet: in a dense block each layer sees the concat of all earlier feature maps and adds `growth` new ones;
a transition (1x1 conv halving the channels, 2x average pool) sits between blocks.
Images (C, H, W) get 2-D convs, signals (C, L) 1-D convs.
    dlx train model=densenet model.growth=16 model.depth=6
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
    avg_pool,
    classifier,
    conv,
    conv_dims,
    conv_norm,
    global_avg_pool,
)


class DenseLayer(nn.Module):
    """cat([x, conv(act(norm(x)))]): (B, C, ...) -> (B, C + growth, ...), its input passed on unchanged."""

    def __init__(self, dims: int, c_in: int, growth: int, norm: Norm, activation: Activation):
        super().__init__()
        # pre-activation order (norm, act, conv) as in the paper: the concat keeps raw features
        self.new = nn.Sequential(conv_norm(dims, norm, c_in), ACTIVATIONS[activation](), conv(dims, c_in, growth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.new(x)], dim=1)


def transition(dims: int, c_in: int, c_out: int, norm: Norm, activation: Activation) -> nn.Sequential:
    return nn.Sequential(
        conv_norm(dims, norm, c_in), ACTIVATIONS[activation](), conv(dims, c_in, c_out, kernel=1), avg_pool(dims)
    )


@with_common_options(finish_model)
def densenet(
    in_shape,
    num_classes,
    growth: PositiveInt = 12,
    depth: PositiveInt = 4,
    blocks: PositiveInt = 3,
    dropout: UnitInterval = 0.0,
    norm: Norm = "batch",
    activation: Activation = "relu",
) -> Net:
    dims = conv_dims("densenet", in_shape, halvings=blocks - 1)
    c = 2 * growth
    layers: list[nn.Module] = [conv(dims, in_shape[0], c)]
    for block in range(blocks):
        for _ in range(depth):
            layers.append(DenseLayer(dims, c, growth, norm, activation))
            c += growth
        if block < blocks - 1:
            layers.append(transition(dims, c, c // 2, norm, activation))  # compression 0.5 keeps widths in check
            c //= 2
    layers += [conv_norm(dims, norm, c), ACTIVATIONS[activation](), global_avg_pool(dims)]
    return Net(nn.Sequential(*layers), classifier(c, num_classes, dropout))
