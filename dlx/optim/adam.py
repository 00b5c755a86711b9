"""Adam.  dlx train optim=adam optim.lr=1e-3"""

import torch

from dlx.config.schema import OpenUnitInterval, PositiveFloat


def adam(
    params,
    lr: PositiveFloat = 1e-3,
    beta1: OpenUnitInterval = 0.9,
    beta2: OpenUnitInterval = 0.999,
    eps: PositiveFloat = 1e-8,
):
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)
