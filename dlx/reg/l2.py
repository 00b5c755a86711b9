"""L2 penalty strength/2 * sum w^2 on weights (not biases or norm layers), added to the loss.
    dlx train reg=[l2] reg.l2.strength=5e-4

For decoupled decay (applied by the step, not through the gradient) use reg=[weight_decay]."""

import torch

from dlx.config.schema import NonNegativeFloat
from dlx.reg import Regularizer, decayed_weights


def l2(strength: NonNegativeFloat = 5e-4) -> Regularizer:
    def penalty(net: torch.nn.Module) -> torch.Tensor:
        return 0.5 * strength * sum(w.pow(2).sum() for w in decayed_weights(net))

    return Regularizer(penalties=[penalty])
