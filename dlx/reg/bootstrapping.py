"""Bootstrapping for noisy labels (Reed et al., 2015): the target blends the given label with the model's own
prediction, soft (its probabilities) or hard (its argmax), so labels the model confidently disputes weigh less.
    dlx train reg=[bootstrapping] reg.bootstrapping.mode=hard reg.bootstrapping.beta=0.8"""

from typing import Annotated, Literal

import torch
import torch.nn.functional as F

from dlx.config.schema import Range
from dlx.reg import Regularizer

Beta = Annotated[float, Range(gt=0, le=1)]
DEFAULT_BETA = {"soft": 0.95, "hard": 0.8}  # the paper's choices


class BootstrappingLoss:
    def __init__(self, beta: float, mode: str):
        self.beta, self.mode = beta, mode

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
        """logits (B, K); target (B, K) probabilities; weight (K,) class weights or None."""
        log_p = F.log_softmax(logits, dim=1)
        if self.mode == "soft":
            own = log_p.exp()
        else:
            own = F.one_hot(logits.argmax(1), logits.shape[1]).to(logits.dtype)
        blended = self.beta * target + (1 - self.beta) * own
        per_class = -blended * log_p
        if weight is not None:
            per_class = per_class * weight
        return per_class.sum(1).mean()


def bootstrapping(mode: Literal["soft", "hard"] = "soft", beta: Beta | None = None) -> Regularizer:
    return Regularizer(criterion=BootstrappingLoss(DEFAULT_BETA[mode] if beta is None else beta, mode))
