"""RMSprop: steps divided by a running average of squared gradients.  dlx train optim=rmsprop optim.lr=0.001"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat, OpenUnitInterval, PositiveFloat, UnitInterval


def rmsprop(
    params,
    lr: LearningRate = 0.001,
    alpha: OpenUnitInterval = 0.99,
    eps: PositiveFloat = 1e-8,
    momentum: UnitInterval = 0.0,
    centered: bool = False,
    weight_decay: NonNegativeFloat = 0.0,
):
    return torch.optim.RMSprop(
        params, lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered, weight_decay=weight_decay
    )
