"""Vision-transformer-style encoder: patches (images) or steps (signals) embedded by a strided conv,
learned position embeddings, `depth` self-attention layers, then a class token or the mean of the tokens.

An image (C, H, W) gives (H/patch)*(W/patch) tokens, a signal (C, L) L/patch tokens, a flat vector (F,) F/patch.
    dlx train model=transformer model.patch=2 model.pool=mean
"""

import math
from typing import Literal

import torch
from torch import nn

from dlx.config.errors import ConfigError
from dlx.config.schema import PositiveInt, UnitInterval, with_common_options
from dlx.model.common import finish_model
from dlx.model.layers import ACTIVATIONS, Activation, Net


class Encoder(nn.Module):
    """(B, *in_shape) -> (B, width)."""

    def __init__(self, in_shape, width, depth, heads, patch, dropout, pool, activation):
        super().__init__()
        shape = tuple(in_shape) if len(in_shape) > 1 else (1, *in_shape)  # a flat vector is a 1-channel signal
        conv = (nn.Conv1d, nn.Conv2d)[len(shape) - 2]
        self.shape = shape
        self.embed = conv(shape[0], width, kernel_size=patch, stride=patch)  # one token per patch
        tokens = math.prod(side // patch for side in shape[1:])
        self.cls = nn.Parameter(torch.zeros(1, 1, width)) if pool == "cls" else None
        self.pos = nn.Parameter(torch.randn(1, tokens + (pool == "cls"), width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            width, heads, 2 * width, dropout, ACTIVATIONS[activation](), batch_first=True, norm_first=True
        )
        # nested tensors only speed up padding masks, which patches never need
        self.layers = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the batch size stays a tensor dimension (-1, x.shape[0]), never a Python int: an exported or traced
        # model then takes any batch size
        x = self.embed(x.reshape(-1, *self.shape)).flatten(2).transpose(1, 2)  # (B, width, *grid) -> (B, T, width)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1 + T, width)
        x = self.norm(self.layers(x + self.pos))
        return x[:, 0] if self.cls is not None else x.mean(dim=1)


@with_common_options(finish_model)
def transformer(
    in_shape,
    num_classes,
    width: PositiveInt = 64,
    depth: PositiveInt = 2,
    heads: PositiveInt = 4,
    patch: PositiveInt = 4,
    dropout: UnitInterval = 0.0,
    pool: Literal["cls", "mean"] = "cls",
    activation: Activation = "gelu",
) -> Net:
    sides = tuple(in_shape[1:]) or tuple(in_shape)
    if any(side % patch for side in sides):
        size = "x".join(map(str, sides))
        raise ConfigError("model", f"model=transformer patch={patch} must divide the input size {size}")
    if width % heads:
        raise ConfigError("model", f"model=transformer width={width} must be a multiple of heads={heads}")
    encoder = Encoder(in_shape, width, depth, heads, patch, dropout, pool, activation)  # its layers drop out
    return Net(encoder, nn.Linear(width, num_classes))
