"""Mixup: train on convex combinations of pairs of samples and of their targets, lam ~ Beta(alpha, alpha).
dlx train reg=[mixup] reg.mixup.alpha=0.2"""

import torch

from dlx.config.schema import PositiveFloat, Probability
from dlx.reg import Regularizer
from dlx.reg.mixing import applies, mixing_weight, partner


class Mixup:
    def __init__(self, alpha: float, p: float):
        self.alpha, self.p = alpha, p

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, ...); target (B, K) probabilities."""
        if not applies(self.p):
            return x, target
        lam, j = mixing_weight(self.alpha), partner(len(x), x.device)
        return lam * x + (1 - lam) * x[j], lam * target + (1 - lam) * target[j]


def mixup(alpha: PositiveFloat = 0.2, p: Probability = 1.0) -> Regularizer:
    return Regularizer(batch_mixers=[Mixup(alpha, p)])
