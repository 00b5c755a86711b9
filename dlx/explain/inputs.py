"""What an explanation needs from a run: its samples as a table, a signal or an image, and feature groups."""

from dataclasses import dataclass

import torch

from dlx.config.errors import ConfigError


@dataclass
class Samples:
    x: torch.Tensor  # (N, *in_shape), normalized as the net takes them
    y: torch.Tensor  # (N,) true classes
    kind: str  # "table" (F,), "signal" (C, L) or "image" (C, H, W)
    class_names: list[str]
    feature_names: list[str] | None = None  # tables


def kind_of(in_shape: tuple[int, ...]) -> str:
    return {1: "table", 2: "signal", 3: "image"}.get(len(in_shape), "other")


def feature_groups(kind: str, in_shape: tuple[int, ...], patch: int | None, names: list[str] | None):
    """-> (mask (1, *in_shape) of group ids, one name per group). Tables: one group per feature; signals: runs of
    `patch` steps (1 by default); images: patch x patch squares over all channels (patch is required)."""
    if kind == "table":
        count = in_shape[0]
        return torch.arange(count).reshape(1, count), list(names or [f"x{i}" for i in range(count)])
    if kind == "signal":
        size = patch or 1
        channels, length = in_shape
        ids = (torch.arange(length) // size).expand(channels, length)
        return ids.reshape(1, channels, length), [
            f"t{i * size}-{min((i + 1) * size, length) - 1}" for i in range(-(-length // size))
        ]
    channels, height, width = in_shape
    rows, cols = -(-height // patch), -(-width // patch)
    grid = (torch.arange(height) // patch)[:, None] * cols + (torch.arange(width) // patch)[None, :]  # (H, W)
    return grid.expand(channels, height, width).reshape(1, channels, height, width), [
        f"r{r}c{c}" for r in range(rows) for c in range(cols)
    ]


def require_patch(method: str, kind: str, patch: int | None) -> None:
    if kind == "image" and patch is None:
        raise ConfigError(
            "patch",
            f"method={method} ranks groups of pixels on images, one pixel alone says little; give patch=N "
            "(squares of N x N pixels, e.g. patch=4)",
        )


def convolution_layer(net: torch.nn.Module, model: str) -> torch.nn.Module:
    """The last convolution of the net: where Grad-CAM reads its activations."""
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d)]
    if not convs:
        raise ConfigError(
            "method",
            f"gradcam needs a convolutional model (model=cnn, resnet, densenet); model={model} has no convolution "
            "layer: use saliency, integrated_gradients or occlusion",
        )
    if any(isinstance(m, torch.nn.MultiheadAttention) for m in net.modules()):
        # its only convolution embeds the patches: a map of it shows the input, not where attention decided
        raise ConfigError(
            "method",
            f"gradcam reads the last convolution, and in model={model} that is the patch embedding, before any "
            "attention: use saliency, integrated_gradients or occlusion",
        )
    return convs[-1]
