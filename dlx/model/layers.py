"""Small pieces the architectures share: the Net every builder returns, conv blocks for 1-D and 2-D input."""

from typing import Literal

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from dlx.config.errors import ConfigError

Activation = Literal["relu", "gelu", "tanh", "silu"]
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}
Norm = Literal["batch", "layer", "none"]


class Net(nn.Module):
    """backbone: input -> features (B, D); head: features -> class scores.  init_from and freeze act on the two."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head
        self.frozen_backbone = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def train(self, mode: bool = True) -> "Net":
        super().train(mode)
        if self.frozen_backbone:  # a frozen backbone's BatchNorm statistics must not drift with the new data
            for m in self.backbone.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def conv_dims(model: str, in_shape: tuple[int, ...], halvings: int = 0) -> int:
    """2 for images (C, H, W), 1 for signals (C, L); a ConfigError when a conv model cannot take the data."""
    shape = tuple(in_shape)
    if len(shape) not in (2, 3):
        raise ConfigError(
            "model", f"model={model} needs images (C, H, W) or 1-D signals (C, L); the data gives shape {shape}"
        )
    side = 2**halvings
    if min(shape[1:]) < side:
        what = f"images of at least {side}x{side}" if len(shape) == 3 else f"signals of length at least {side}"
        got = "x".join(map(str, shape[1:]))
        raise ConfigError(
            "model",
            f"model={model} as configured needs {what} (it halves the size {halvings} times); the data gives {got}",
        )
    return len(shape) - 1


def conv(dims: int, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, bias: bool = True) -> nn.Module:
    return (nn.Conv1d, nn.Conv2d)[dims - 1](c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=bias)


def conv_norm(dims: int, norm: Norm, c: int) -> nn.Module:
    if norm == "batch":
        return (nn.BatchNorm1d, nn.BatchNorm2d)[dims - 1](c)
    return nn.GroupNorm(1, c) if norm == "layer" else nn.Identity()  # GroupNorm(1, C): LayerNorm over (C, H, W)


def feature_norm(norm: Norm, n: int) -> nn.Module:
    """Norm of flat features (B, n)."""
    return {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}[norm](n) if norm != "none" else nn.Identity()


def conv_norm_act(
    dims: int, c_in: int, c_out: int, stride: int = 1, norm: Norm = "batch", activation: Activation = "relu"
) -> nn.Sequential:
    # a norm right after the conv makes its bias redundant
    return nn.Sequential(
        conv(dims, c_in, c_out, stride=stride, bias=norm == "none"),
        conv_norm(dims, norm, c_out),
        ACTIVATIONS[activation](),
    )


def max_pool(dims: int) -> nn.Module:
    return (nn.MaxPool1d, nn.MaxPool2d)[dims - 1](2)


def avg_pool(dims: int) -> nn.Module:
    return (nn.AvgPool1d, nn.AvgPool2d)[dims - 1](2)


def global_avg_pool(dims: int) -> nn.Sequential:
    # (B, C, *spatial) -> (B, C)
    return nn.Sequential((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)[dims - 1](1), nn.Flatten())


def classifier(features: int, num_classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(features, num_classes))
