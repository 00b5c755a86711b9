"""SGD with (Nesterov) momentum.  dlx train optim=sgd optim.lr=0.05 optim.momentum=0.9"""

import torch

from dlx.config.schema import PositiveFloat, UnitInterval


def sgd(params, lr: PositiveFloat = 0.05, momentum: UnitInterval = 0.9, nesterov: bool = False):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0)
