"""L1 penalty strength * sum|w| on weights (not biases or norm layers), pushing weights to exactly zero.
dlx train reg=[l1] reg.l1.strength=1e-4"""

import torch

from dlx.config.schema import NonNegativeFloat
from dlx.reg import Regularizer, decayed_weights


def l1(strength: NonNegativeFloat = 1e-4) -> Regularizer:
    def penalty(net: torch.nn.Module) -> torch.Tensor:
        return strength * sum(w.abs().sum() for w in decayed_weights(net))

    return Regularizer(penalties=[penalty])
