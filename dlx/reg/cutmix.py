"""CutMix: paste a random box (a segment, for 1-D signals) from another sample of the batch; the targets mix
in proportion to the pasted area.  dlx train reg=[cutmix] reg.cutmix.alpha=1.0"""

import math

import torch

from dlx.config.schema import PositiveFloat, Probability
from dlx.reg import Regularizer
from dlx.reg.mixing import applies, mixing_weight, partner


def random_box(sizes: tuple[int, ...], area: float) -> list[slice]:
    """One slice per spatial axis, covering about `area` of the whole, centred at a random point."""
    side = area ** (1 / len(sizes))
    box = []
    for n in sizes:
        length = round(n * side)
        centre = torch.randint(n, ()).item()
        lo, hi = max(centre - length // 2, 0), min(centre - length // 2 + length, n)
        box.append(slice(lo, hi))
    return box


class CutMix:
    def __init__(self, alpha: float, p: float):
        self.alpha, self.p = alpha, p

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, C, H, W) or (B, C, L); target (B, K) probabilities."""
        if x.dim() < 3:
            raise ValueError(
                f"cutmix needs images (B, C, H, W) or signals (B, C, L); got a batch of shape {tuple(x.shape)}"
            )
        if not applies(self.p):
            return x, target
        lam, j = mixing_weight(self.alpha), partner(len(x), x.device)
        box = random_box(tuple(x.shape[2:]), 1 - lam)
        mixed = x.clone()
        mixed[(slice(None), slice(None), *box)] = x[j][(slice(None), slice(None), *box)]
        pasted = math.prod(s.stop - s.start for s in box) / math.prod(x.shape[2:])  # clipped at the border
        return mixed, (1 - pasted) * target + pasted * target[j]


def cutmix(alpha: PositiveFloat = 1.0, p: Probability = 1.0) -> Regularizer:
    return Regularizer(batch_mixers=[CutMix(alpha, p)])
