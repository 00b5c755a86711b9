"""L2 penalty as decoupled-from-bias weight decay on weights (not biases or norm layers).  dlx train reg=[l2]"""

from dlx.config.schema import NonNegativeFloat
from dlx.reg import Regularizer


def l2(weight_decay: NonNegativeFloat = 5e-4) -> Regularizer:
    return Regularizer(weight_decay=weight_decay)
