"""Adagrad: per-parameter steps shrink with the sum of past squared gradients.  dlx train optim=adagrad"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat, PositiveFloat
from dlx.optim import Kernel, kernel_options


def adagrad(
    params,
    lr: LearningRate = 0.02,
    lr_decay: NonNegativeFloat = 0.0,
    initial_accumulator_value: NonNegativeFloat = 0.0,
    eps: PositiveFloat = 1e-10,
    weight_decay: NonNegativeFloat = 0.0,
    kernel: Kernel = "auto",
):
    params = list(params)  # kernel_options reads it too (a generator would be used up)
    return torch.optim.Adagrad(
        params,
        lr=lr,
        lr_decay=lr_decay,
        initial_accumulator_value=initial_accumulator_value,
        eps=eps,
        weight_decay=weight_decay,
        **kernel_options(params, kernel),
    )
