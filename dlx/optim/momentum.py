"""SGD with heavy-ball or Nesterov momentum.  dlx train optim=momentum optim.lr=0.05 optim.nesterov=true"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat, OpenUnitInterval
from dlx.optim import Kernel, kernel_options


def momentum(
    params,
    lr: LearningRate = 0.05,
    momentum: OpenUnitInterval = 0.9,
    nesterov: bool = False,
    weight_decay: NonNegativeFloat = 0.0,
    kernel: Kernel = "auto",
):
    params = list(params)  # kernel_options reads it too (a generator would be used up)
    return torch.optim.SGD(
        params,
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        **kernel_options(params, kernel),
    )
