"""Plain stochastic gradient descent (no momentum).  dlx train optim=sgd optim.lr=0.1"""

import torch

from dlx.config.schema import LearningRate, NonNegativeFloat


def sgd(params, lr: LearningRate = 0.1, weight_decay: NonNegativeFloat = 0.0):
    return torch.optim.SGD(params, lr=lr, momentum=0.0, weight_decay=weight_decay)
