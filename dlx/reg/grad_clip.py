"""Clip gradients each step: their total norm to max_norm (mode=norm) or each value to +-max (mode=value).
dlx train reg=[grad_clip] reg.grad_clip.max=1.0 reg.grad_clip.mode=norm"""

from typing import Literal

from dlx.config.schema import PositiveFloat
from dlx.reg import Regularizer


def grad_clip(max: PositiveFloat = 1.0, mode: Literal["norm", "value"] = "norm") -> Regularizer:  # noqa: A002
    return Regularizer(grad_clip=(max, mode))
