"""Decoupled weight decay: each step shrinks weights by lr * rate, outside the gradient (AdamW-style, any
optimizer); biases and norm layers are not decayed.  dlx train reg=[weight_decay] reg.weight_decay.rate=0.01"""

from dlx.config.schema import NonNegativeFloat
from dlx.reg import Regularizer


def weight_decay(rate: NonNegativeFloat = 0.01) -> Regularizer:
    return Regularizer(decoupled_weight_decay=rate)
