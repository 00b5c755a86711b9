"""Adversarial training: a share of every batch replaced by FGSM or PGD examples of itself (eps a fraction of the
input range, inside the data's valid range).  dlx train reg=[adversarial] reg.adversarial.eps=0.05"""

from typing import Annotated, Literal

import torch

from dlx.config.schema import PositiveInt, Probability, Range
from dlx.reg import Regularizer

Eps = Annotated[float, Range(gt=0, le=1)]


class Adversary:
    def __init__(self, method: str, eps: float, ratio: float, steps: int, step_size: float | None, random_start: bool):
        self.method, self.eps, self.ratio = method, eps, ratio
        self.steps, self.step_size, self.random_start = steps, step_size, random_start

    def __call__(self, scores, x: torch.Tensor, y: torch.Tensor, bounds) -> torch.Tensor:
        """x (B, ...) normalized; the first round(ratio * B) samples come back as adversarial examples."""
        from dlx.robust.attacks import fgsm, pgd

        n = round(self.ratio * len(x))
        if n == 0:
            return x
        head, tail = x[:n], x[n:]
        if self.method == "fgsm":
            adv = fgsm(scores, head, y[:n], self.eps, bounds)
        else:
            adv = pgd(scores, head, y[:n], self.eps, bounds, self.steps, self.step_size, self.random_start)
        return torch.cat([adv, tail])


def adversarial(
    method: Literal["fgsm", "pgd"] = "fgsm",
    eps: Eps = 0.05,
    ratio: Probability = 0.5,
    steps: PositiveInt = 5,
    step_size: Eps | None = None,
    random_start: bool = True,
) -> Regularizer:
    """steps, step_size, random_start: PGD only (step_size null: 2.5 eps / steps)."""
    return Regularizer(adversary=Adversary(method, eps, ratio, steps, step_size, random_start))
