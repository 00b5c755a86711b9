"""Augmentations of sequences / 1-D signals (B, C, L): random time shift and random amplitude scale (kornia has none).

dlx train aug=[shift,scale,noise] aug.shift.max_shift=8 aug.scale.amount=0.2
"""

from typing import Literal

import torch

from dlx.aug.op import BatchOp, Fraction, per_sample, uniform
from dlx.config.schema import NonNegativeInt, Probability


class Shift(BatchOp):
    """Shift each signal by s ~ U{-max_shift..max_shift} steps along L: wrap around, or pad with zeros."""

    rank = 3
    strength = "max_shift"

    def __init__(
        self,
        p: Probability = 0.5,
        max_shift: NonNegativeInt = 8,
        padding_mode: Literal["circular", "zeros"] = "circular",
    ):
        super().__init__(p)
        self.max_shift, self.padding_mode = max_shift, padding_mode

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        B, C, L = x.shape
        shift = torch.randint(-self.max_shift, self.max_shift + 1, (B,), device=x.device) * chosen
        source = torch.arange(L, device=x.device) - shift[:, None]  # (B, L): out[b, :, t] = x[b, :, source[b, t]]
        out = x.gather(2, (source % L)[:, None].expand(B, C, L))
        if self.padding_mode == "zeros":
            out = out.masked_fill(((source < 0) | (source >= L))[:, None], 0)
        return out


class Scale(BatchOp):
    """Multiply each signal by a factor ~ U(1 - amount, 1 + amount); any shape."""

    rank = None
    strength = "amount"

    def __init__(self, p: Probability = 0.5, amount: Fraction = 0.2):
        super().__init__(p)
        self.amount = amount

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        factor = uniform(1 - self.amount, 1 + self.amount, x).where(chosen, 1)  # 1 leaves unchosen samples as they were
        return x * per_sample(factor, x)
