"""Plain stochastic gradient descent (no momentum).  dlx train optim=sgd optim.lr=0.1"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat
from dlx.optim import Kernel, kernel_options


def sgd(params, lr: LearningRate = 0.1, weight_decay: NonNegativeFloat = 0.0, kernel: Kernel = "auto"):
    params = list(params)  # kernel_options reads it too (a generator would be used up)
    # auto keeps torch's choice: without momentum the fused kernel is no faster (see kernel_options)
    options = kernel_options(params, kernel, fused_is_faster=False)
    return torch.optim.SGD(params, lr=lr, momentum=0.0, weight_decay=weight_decay, **options)
