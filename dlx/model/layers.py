"""Small pieces the architectures share."""

from typing import Literal

from torch import nn

from dlx.config.errors import ConfigError

Activation = Literal["relu", "gelu", "tanh", "silu"]
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


def conv_bn_act(
    c_in: int, c_out: int, stride: int = 1, batch_norm: bool = True, activation: Activation = "relu"
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not batch_norm),
        nn.BatchNorm2d(c_out) if batch_norm else nn.Identity(),
        ACTIVATIONS[activation](),
    )


def require_image(model: str, in_shape: tuple[int, ...], min_side: int = 1) -> tuple[int, int, int]:
    """(C, H, W) of image data, or a ConfigError saying why this model cannot take the data."""
    if len(in_shape) != 3:
        raise ConfigError("model", f"model={model} needs image input (C, H, W); the data gives shape {tuple(in_shape)}")
    c, h, w = in_shape
    if min(h, w) < min_side:
        raise ConfigError(
            "model",
            f"model={model} as configured needs images of at least {min_side}x{min_side} "
            f"(it halves the size {min_side.bit_length() - 1} times); the data gives {h}x{w}",
        )
    return c, h, w
