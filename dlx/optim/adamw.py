"""AdamW: Adam with weight decay applied to the weights directly, not through the gradient.  dlx train optim=adamw"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat, OpenUnitInterval, PositiveFloat
from dlx.optim import Kernel, kernel_options


def adamw(
    params,
    lr: LearningRate = 0.002,
    beta1: OpenUnitInterval = 0.9,
    beta2: OpenUnitInterval = 0.999,
    eps: PositiveFloat = 1e-8,
    weight_decay: NonNegativeFloat = 0.01,
    amsgrad: bool = False,
    kernel: Kernel = "auto",
):
    params = list(params)  # kernel_options reads it too (a generator would be used up)
    return torch.optim.AdamW(
        params,
        lr=lr,
        betas=(beta1, beta2),
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        **kernel_options(params, kernel),
    )
